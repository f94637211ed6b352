// The live keys table (#stateTable), fed by the node's 'state-changed'
// events, and the log lines of changes made by peers.
import { byId, coalesced, setHtml, setText } from '../shared/dom.js';
import { clockTime, escapeHtml, jsonPreview, plural, truncate } from '../shared/format.js';
import { log } from './event-log.js';

// Only the first MAX_ROWS keys are read, so a state of 100,000 keys renders
// as fast as one of 200.
const MAX_ROWS = 200;
const MAX_CELL_CHARS = 160;
const RENDER_DELAY_MS = 30; // a burst of changes (a peer's batchWrite) renders once

// onPick(key): a row was clicked; onDelete(key): its × was.
export function createStateTable(session, { onPick, onDelete }) {
  const body = byId('stateTableBody');
  const changes = new Map(); // key -> {origin, at} of its last change
  const flashKeys = new Set();
  const scheduleRender = coalesced(render, RENDER_DELAY_MS);

  body.addEventListener('click', (e) => {
    const del = e.target.closest('[data-delete]');
    if (del) {
      onDelete(del.dataset.delete);
      return;
    }
    const row = e.target.closest('tr[data-key]');
    if (row) onPick(row.dataset.key);
  });

  // A sync of thousands of keys is logged as one line per tick, not one each.
  const pendingLog = [];
  function flushLog() {
    const entries = pendingLog.splice(0);
    if (entries.length <= 3) {
      for (const { key, deleted, value, origin } of entries) {
        log(deleted ? `State deleted by ${origin}: ${key}` : `State changed by ${origin}: ${key} = ${jsonPreview(value)}`, 'state');
      }
      return;
    }
    const origins = [...new Set(entries.map((e) => e.origin))].join(', ');
    log(`State: ${entries.length} keys changed by ${origins}`, 'state');
  }

  function onStateChanged({ key, value, deleted, origin }) {
    // origin is null for this node's own writes, which the state forms log.
    changes.set(key, { origin: origin ?? 'local', at: Date.now() });
    if (flashKeys.size < MAX_ROWS) flashKeys.add(key);
    if (origin !== null) {
      if (!pendingLog.length) queueMicrotask(flushLog);
      pendingLog.push({ key, deleted, value, origin });
    }
    scheduleRender();
  }

  function watch(node) {
    node.on('state-changed', onStateChanged);
    node.on('initialized', scheduleRender); // the state restored from storage
  }

  function row(key, value) {
    const json = JSON.stringify(value);
    const change = changes.get(key);
    const origin = change?.origin ?? '—';
    return `<tr class="clickable${flashKeys.has(key) ? ' flash' : ''}" data-key="${escapeHtml(key)}">
        <td class="id" title="${escapeHtml(key)}">${escapeHtml(key)}</td>
        <td class="val" title="${escapeHtml(truncate(json, 2000))}">${escapeHtml(truncate(json, MAX_CELL_CHARS))}</td>
        <td class="id" title="${escapeHtml(origin)}">${escapeHtml(origin)}</td>
        <td class="num"${change ? ` title="${clockTime(new Date(change.at))}"` : ''}>${change ? clockTime(new Date(change.at)).slice(0, 8) : '—'}</td>
        <td class="num"><button type="button" class="row-delete" data-delete="${escapeHtml(key)}" title="Delete this key" aria-label="Delete key">×</button></td>
      </tr>`;
  }

  function render() {
    const state = session.stateManager;
    const keys = state ? state.keys().sort() : [];
    const shown = keys.slice(0, MAX_ROWS);
    setText(byId('stateCount'), `${plural(keys.length, 'key')}${keys.length > shown.length ? ` (first ${shown.length} shown)` : ''}`);
    const html = shown.length
      ? shown.map((key) => row(key, state.read(key))).join('')
      : '<tr class="empty"><td colspan="5">State is empty.</td></tr>';
    // Flashing rows must be re-inserted for the animation to replay, even
    // when their markup is unchanged (the same value written twice).
    setHtml(body, html, { force: flashKeys.size > 0 });
    flashKeys.clear();
  }

  return { watch };
}
