// Presence: ephemeral state per node (a cursor, a name, a colour), shown to
// connected peers, never stored, gone when its node leaves or stops
// answering. The kernel holds and sends it; this keeps every node's presence
// as the app reads it, behind the StateManager's setPresence(),
// getPresence() and onPresence().
//
// Presence is the other way round from the state's read cache: it changes
// often and is read by every listener on every change, so each presence is
// parsed once when it changes and kept deep-frozen; getPresence() and the
// listeners share those values.
import { toJsonText, utf8Length } from './json-value.js';

// A presence is at most this much JSON (the kernel's limit, wire::kMaxPresenceBytes).
export const MAX_PRESENCE_BYTES = 64 * 1024;

// Parses a presence once, and freezes all of it, so that every listener and
// every getPresence() can share it. Iterative: JSON may nest deeper than the stack.
function frozenPresence(text) {
  const value = JSON.parse(text);
  if (typeof value !== 'object' || value === null) return value;
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    Object.freeze(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object' && v[i] !== null) stack.push(v[i]);
    } else {
      for (const key in v) if (typeof v[key] === 'object' && v[key] !== null) stack.push(v[key]);
    }
  }
  return value;
}

export class PresenceManager {
  #driver;
  #emitter;
  #nodeId;
  #presence = new Map(); // peerId -> its presence, parsed once and deep-frozen (this node's own under its id)
  #listeners = new Set();

  constructor(driver, emitter, nodeId) {
    this.#driver = driver;
    this.#emitter = emitter;
    this.#nodeId = nodeId;
  }

  // Sets this node's presence; null clears it. At most MAX_PRESENCE_BYTES of
  // JSON: a larger one throws, and changes nothing.
  set(presence) {
    const where = 'setPresence(presence)';
    const text = toJsonText(presence, `${where}: presence`);
    if (3 * text.length > MAX_PRESENCE_BYTES) {
      const bytes = utf8Length(text);
      if (bytes > MAX_PRESENCE_BYTES) {
        throw new RangeError(
          `${where}: presence is ${bytes} bytes of JSON, over the limit of 64 KiB (${MAX_PRESENCE_BYTES} bytes); ` +
            'keep presence small (a cursor, a name) and put larger data in the state',
        );
      }
    }
    const error = this.#driver.input((k, t) => k.setPresence(text, t));
    if (error) throw new Error(`${where}: ${error}`);
    this.#changed(this.#nodeId, text === 'null' ? null : text);
  }

  // {peerId: presence} for every node that has one, this node included: a
  // new object each call, its presences parsed once and frozen.
  get() {
    return Object.fromEntries(this.#presence);
  }

  // callback(presence, {peerId, state}) on every change; returns an unsubscribe function.
  on(callback) {
    if (typeof callback !== 'function') throw new TypeError('onPresence(callback): callback must be a function');
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }

  // A peer's presence changed or went; text is JSON or null.
  apply(peerId, text) {
    this.#changed(peerId, text);
  }

  // Each presence is parsed here, once, and deep-frozen: every listener and
  // get() share it. With many peers moving cursors, parsing every presence
  // on every change would stall the page.
  #changed(peerId, text) {
    let state = null;
    if (text === null) {
      if (!this.#presence.delete(peerId)) return;
    } else {
      state = frozenPresence(text);
      this.#presence.set(peerId, state);
    }
    const change = Object.freeze({ peerId, state });
    for (const callback of this.#listeners) {
      try {
        callback(this.get(), change);
      } catch (error) {
        console.error('peercompute: a presence listener threw', error);
      }
    }
    this.#emitter.emit('presence', change);
  }
}
