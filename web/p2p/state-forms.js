// The Write / Delete / Read / Snapshot / Clear all controls of the
// replicated state.
import { byId } from '../shared/dom.js';
import { jsonPreview, parseJsonOrText } from '../shared/format.js';
import { log } from './event-log.js';

export function createStateForms(session, refresh) {
  function stateManagerFor(action) {
    const state = session.stateManager;
    if (!state) log(`${action} failed: no state manager (initialize the node first)`, 'error');
    return state;
  }

  async function write() {
    const key = byId('stateKey').value.trim();
    if (!key) {
      log('Write: enter a key first', 'warn');
      return;
    }
    const value = parseJsonOrText(byId('stateValue').value);
    const state = stateManagerFor('Write');
    if (!state) return;
    try {
      await state.write(key, value);
      log(`Wrote ${key} = ${jsonPreview(value)}`, 'success');
      byId('readKey').value = key;
    } catch (err) {
      log(`Write failed: ${err.message}`, 'error');
    }
    refresh();
  }

  async function deleteKey(key) {
    if (!key) {
      log('Delete: enter a key first', 'warn');
      return;
    }
    const state = stateManagerFor('Delete');
    if (!state) return;
    try {
      await state.delete(key);
      log(`Deleted ${key}`, 'success');
    } catch (err) {
      log(`Delete failed: ${err.message}`, 'error');
    }
    refresh();
  }

  function read() {
    const key = byId('readKey').value.trim();
    if (!key) {
      log('Read: enter a key first', 'warn');
      return;
    }
    const state = stateManagerFor('Read');
    if (!state) return;
    const out = byId('readResult');
    try {
      // has() tells a missing key from a stored null.
      const present = state.has(key);
      out.classList.toggle('missing', !present);
      if (present) {
        const value = state.read(key);
        out.textContent = JSON.stringify(value);
        byId('readCaption').textContent = `Value of "${key}":`;
        log(`Read ${key} = ${jsonPreview(value)}`);
      } else {
        out.textContent = 'undefined — key not found';
        byId('readCaption').textContent = `"${key}" is not in the state.`;
        log(`Read ${key}: not found`, 'warn');
      }
    } catch (err) {
      out.classList.add('missing');
      out.textContent = `Error: ${err.message}`;
      log(`Read failed: ${err.message}`, 'error');
    }
  }

  function snapshot() {
    const state = stateManagerFor('Snapshot');
    if (!state) return;
    const snap = state.snapshot();
    byId('stateSnapshot').textContent = JSON.stringify(snap, null, 2);
    log(`Snapshot refreshed (${snap.keyCount} keys, version ${snap.version})`);
  }

  async function clear() {
    const state = stateManagerFor('Clear');
    if (!state) return;
    // clear() replicates to every peer in the room, hence the confirmation.
    if (!window.confirm(`Delete every key in room "${session.room.roomId}" for all peers?`)) return;
    await state.clear();
    log('State cleared', 'success');
    refresh();
  }

  // Raw text only when it reads back as the same string; otherwise JSON, so
  // that re-writing "42" (a string) doesn't turn it into 42.
  function load(key) {
    byId('stateKey').value = key;
    byId('readKey').value = key;
    const state = session.stateManager;
    if (!state?.has(key)) return;
    const value = state.read(key);
    byId('stateValue').value = typeof value === 'string' && parseJsonOrText(value) === value ? value : JSON.stringify(value);
  }

  byId('writeForm').addEventListener('submit', (e) => {
    e.preventDefault();
    write();
  });
  byId('deleteBtn').addEventListener('click', () => deleteKey(byId('stateKey').value.trim()));
  byId('readForm').addEventListener('submit', (e) => {
    e.preventDefault();
    read();
  });
  byId('snapshotBtn').addEventListener('click', snapshot);
  byId('clearStateBtn').addEventListener('click', clear);

  return { load, deleteKey };
}
