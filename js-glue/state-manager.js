// StateManager: the replicated key/value state as an application sees it.
//
// The C++ kernel holds the state and decides every merge. This class keeps a
// read cache that is exact: a local operation is applied to it at once (a
// local write always wins where it is made), and the kernel's change events
// bring in what peers, storage and imported updates changed. Local operations
// queue here and reach the kernel in one crossing per tick, or before any
// other input to the kernel, so the kernel sees everything in order. What a
// tick queued goes as one transaction when it fits one (the protocol's limit:
// 1,048,576 keys, 16 MiB), else as several, cut between operations.
//
// Objects and arrays are cached as JSON text and parsed on each read, so a
// caller that mutates what it read cannot change the state behind the
// kernel's back. Primitives are cached as they are.
import { requireKey, toJsonText, utf8Length } from './json-value.js';
import { PresenceManager } from './presence.js';
// Generated into dist/host/ by scripts/build.sh (wasm/host/host_interface.json).
import { operationBatchBound, writeOperationBatch } from './host/input-batches.js';

class JsonText {
  constructor(text) {
    this.text = text;
  }
}

// The cached form of a value's JSON text (valid JSON: this node wrote it, or
// the kernel checked it). Primitives are read off their first character
// where that settles them: a JSON number is also a JS number literal that
// Number() reads to the same double, and true, false and null are what
// their first letter says. Strings go through JSON.parse for their escapes.
function cacheValue(text) {
  const c = text.charCodeAt(0);
  if (c === 0x7b || c === 0x5b) return new JsonText(text); // { [
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return Number(text); // - 0-9
  if (c === 0x74) return true;
  if (c === 0x66) return false;
  if (c === 0x6e) return null;
  return JSON.parse(text);
}

// A primitive as its JSON text reads back (the same value; -0 writes as 0),
// or undefined for anything the cache keeps as text.
function primitiveForm(value) {
  switch (typeof value) {
    case 'number':
      return value === 0 ? 0 : value;
    case 'string':
    case 'boolean':
      return value;
    default:
      return value === null ? null : undefined;
  }
}

// A transaction must fit one Update frame (wire/PROTOCOL.md, frame limits):
// at most TX_MAX_KEYS keys, and at most TX_MAX_BYTES by the kernel's bound
// (NodeKernel::commit): TX_BASE_BYTES, plus for each key its UTF-8 size, its
// value's, and TX_KEY_BYTES.
export const TX_MAX_KEYS = 1_048_576;
export const TX_MAX_BYTES = 16 * 1024 * 1024;
const TX_KEY_BYTES = 14;
const TX_BASE_BYTES = 64;

// A presence's limit, defined with presence.
export { MAX_PRESENCE_BYTES } from './presence.js';

// The size of flat ops [key, text or null, ...] by the kernel's bound, not
// counting TX_BASE_BYTES. `chars`, the UTF-16 length of all their text, gives
// an upper bound (3 bytes a unit) that suffices unless the ops are large; only
// then is the UTF-8 counted.
function opsBytes(ops, chars) {
  const keyBytes = TX_KEY_BYTES * (ops.length / 2);
  if (TX_BASE_BYTES + keyBytes + 3 * chars <= TX_MAX_BYTES) return keyBytes + 3 * chars;
  let bytes = keyBytes;
  for (let i = 0; i < ops.length; i++) if (ops[i] !== null) bytes += utf8Length(ops[i]);
  return bytes;
}

function tooLarge(where, what) {
  return new RangeError(
    `${where}: ${what}, over the limit of one transaction (${TX_MAX_KEYS.toLocaleString('en-US')} keys and 16 MiB, ` +
      `counting each key and value in UTF-8 plus ${TX_KEY_BYTES} bytes a key); split it into several`,
  );
}

// Checks that ops make one transaction the kernel takes; returns their size.
function checkTransaction(ops, chars, where) {
  const keys = ops.length / 2;
  if (keys > TX_MAX_KEYS) throw tooLarge(where, `${keys.toLocaleString('en-US')} keys`);
  const bytes = opsBytes(ops, chars);
  if (TX_BASE_BYTES + bytes > TX_MAX_BYTES) throw tooLarge(where, `${(TX_BASE_BYTES + bytes).toLocaleString('en-US')} bytes`);
  return bytes;
}

// The size of one write by the kernel's bound; throws if it is too large.
function writeBytes(key, text, where) {
  const chars = key.length + text.length;
  if (TX_BASE_BYTES + TX_KEY_BYTES + 3 * chars <= TX_MAX_BYTES) return TX_KEY_BYTES + 3 * chars;
  return checkTransaction([key, text], chars, where);
}

// Cuts flat ops into runs that each make one transaction: [end, bytes, ...],
// end an index into ops. Used for deletes of many keys (clear).
function splitTransactions(ops) {
  let chars = 0;
  for (let i = 0; i < ops.length; i++) if (ops[i] !== null) chars += ops[i].length;
  if (ops.length / 2 <= TX_MAX_KEYS && TX_BASE_BYTES + TX_KEY_BYTES * (ops.length / 2) + 3 * chars <= TX_MAX_BYTES) {
    return [ops.length, TX_KEY_BYTES * (ops.length / 2) + 3 * chars];
  }
  const runs = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < ops.length; i += 2) {
    const entry = TX_KEY_BYTES + utf8Length(ops[i]) + (ops[i + 1] === null ? 0 : utf8Length(ops[i + 1]));
    if (i > start && ((i - start) / 2 >= TX_MAX_KEYS || TX_BASE_BYTES + bytes + entry > TX_MAX_BYTES)) {
      runs.push(i, bytes);
      start = i;
      bytes = 0;
    }
    bytes += entry;
  }
  runs.push(ops.length, bytes);
  return runs;
}

// A namespaced key is stored as "\0namespace\0key" in the one replicated map.
// The plain API refuses keys that start with "\0", and does not show these.
const NS = '\u0000';

function scopedKey(ns, key, where) {
  if (typeof ns !== 'string' || ns.length === 0) throw new TypeError(`${where}: namespace must be a non-empty string`);
  if (ns.includes(NS)) throw new TypeError(`${where}: namespace must not contain U+0000`);
  requireKey(key, where);
  return NS + ns + NS + key;
}

// [namespace, key] for a namespaced key, else null.
function splitScoped(key) {
  if (key.charCodeAt(0) !== 0) return null;
  const end = key.indexOf(NS, 1);
  return end < 0 ? null : [key.slice(1, end), key.slice(end + 1)];
}

function requirePlainKey(key, where) {
  requireKey(key, where);
  if (key.charCodeAt(0) === 0) throw new TypeError(`${where}: keys starting with U+0000 are reserved for namespaces`);
  return key;
}

export class StateManager {
  #driver;
  #emitter;
  #isSyncing;
  #storage = null; // {whenStored(): Promise, hasPersistence: boolean}
  #cache = new Map(); // key -> primitive, or JsonText for objects and arrays
  #subscribers = new Map(); // key or '*' -> Set<callback>
  #queued = []; // flat [key, text or null, ...] not yet committed to the kernel
  // Where each queued API operation (or part of a clear) ends in #queued, and
  // its size by the kernel's transaction bound: flat [end, bytes, ...].
  // flush() cuts only there, so that each operation stays one transaction.
  #queuedRuns = [];
  #queuedBytes = 0; // the sum of those sizes
  #committing = false;
  #flushScheduled = false;
  #settle = null; // resolves the promise of the queued operations
  #settled = null;
  #namespaces = new Map(); // namespace -> Set of its keys
  #plainKeys = 0;
  #presence;
  #version = 0;
  #localTransactions = 0;
  #remoteTransactions = 0;

  // isSyncing(): whether the node is started, so the state syncs with peers.
  constructor(driver, emitter, isSyncing, nodeId) {
    this.#driver = driver;
    this.#emitter = emitter;
    this.#isSyncing = isSyncing;
    this.#presence = new PresenceManager(driver, emitter, nodeId);
    driver.setBeforeInput(() => this.flush());
  }

  attachStorage(storage) {
    this.#storage = storage;
  }

  // Empties the room's store; the state in memory, and at peers, stays.
  async clearPersistence() {
    this.flush();
    await this.#storage?.clear();
  }

  // ---- reading --------------------------------------------------------------

  // Reads check only what they must: a key that could never have been
  // written is simply not found.
  read(key) {
    if (typeof key !== 'string' || key.length === 0 || key.charCodeAt(0) === 0) requirePlainKey(key, 'read(key)');
    const v = this.#cache.get(key);
    return v instanceof JsonText ? JSON.parse(v.text) : v;
  }

  has(key) {
    if (typeof key !== 'string' || key.length === 0 || key.charCodeAt(0) === 0) requirePlainKey(key, 'has(key)');
    return this.#cache.has(key);
  }

  keys() {
    const out = [];
    for (const key of this.#cache.keys()) if (key.charCodeAt(0) !== 0) out.push(key);
    return out;
  }

  values() {
    return this.keys().map((key) => this.read(key));
  }

  entries() {
    return this.keys().map((key) => [key, this.read(key)]);
  }

  snapshot() {
    return {
      data: Object.fromEntries(this.entries()),
      timestamp: Date.now(),
      version: this.#version,
      keyCount: this.#plainKeys,
    };
  }

  // ---- writing ----------------------------------------------------------------
  // Each operation takes effect at once. The promise it returns resolves
  // once the operation is durable in storage (at once when there is none).

  write(key, value) {
    requirePlainKey(key, 'write(key, value)');
    const text = toJsonText(value, 'write(key, value): value');
    const bytes = writeBytes(key, text, 'write(key, value)');
    const settled = this.#pendingPromise();
    this.#applyLocal([key, text], bytes, null, [primitiveForm(value)]);
    return settled;
  }

  delete(key) {
    requirePlainKey(key, 'delete(key)');
    const existed = this.#cache.has(key);
    const settled = this.#pendingPromise();
    this.#applyLocal([key, null], TX_KEY_BYTES + 3 * key.length);
    return settled.then(() => existed);
  }

  // Applies every entry as one atomic transaction: peers apply all or none,
  // and subscribers run only after all of it is applied. A value of undefined
  // deletes its key. A transaction holds at most TX_MAX_KEYS keys and
  // TX_MAX_BYTES (wire/PROTOCOL.md): a larger one throws a RangeError, and
  // nothing is applied.
  batchWrite(entries) {
    const where = 'batchWrite(entries)';
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw new TypeError(`${where}: entries must be an object of key/value pairs`);
    }
    const keys = Object.keys(entries);
    if (keys.length > TX_MAX_KEYS) throw tooLarge(where, `${keys.length.toLocaleString('en-US')} keys`);
    const ops = new Array(2 * keys.length);
    const forms = new Array(keys.length); // what the cache keeps, where the value itself will do
    let chars = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const value = entries[key];
      requirePlainKey(key, where);
      const text = value === undefined ? null : toJsonText(value, () => `${where}: entries['${key}']`);
      ops[2 * i] = key;
      ops[2 * i + 1] = text;
      forms[i] = primitiveForm(value);
      chars += text === null ? key.length : key.length + text.length;
    }
    return this.#applyLocalSettled(ops, checkTransaction(ops, chars, where), forms);
  }

  // Deletes every key outside namespaces: as one transaction when they fit
  // one (TX_MAX_KEYS keys, TX_MAX_BYTES), else in as few as they fit.
  clear() {
    const ops = [];
    for (const key of this.keys()) ops.push(key, null);
    return this.#applyLocalSettled(ops, -1);
  }

  // ---- namespaces ------------------------------------------------------------------

  writeScoped(ns, key, value) {
    const k = scopedKey(ns, key, 'writeScoped(namespace, key, value)');
    const text = toJsonText(value, 'writeScoped(namespace, key, value): value');
    const bytes = writeBytes(k, text, 'writeScoped(namespace, key, value)');
    const settled = this.#pendingPromise();
    this.#applyLocal([k, text], bytes);
    return settled;
  }

  readScoped(ns, key) {
    const v = this.#cache.get(scopedKey(ns, key, 'readScoped(namespace, key)'));
    return v instanceof JsonText ? JSON.parse(v.text) : v;
  }

  hasScoped(ns, key) {
    return this.#cache.has(scopedKey(ns, key, 'hasScoped(namespace, key)'));
  }

  deleteScoped(ns, key) {
    const k = scopedKey(ns, key, 'deleteScoped(namespace, key)');
    const existed = this.#cache.has(k);
    const settled = this.#pendingPromise();
    this.#applyLocal([k, null], TX_KEY_BYTES + 3 * k.length);
    return settled.then(() => existed);
  }

  listNamespaceKeys(ns) {
    scopedKey(ns, 'x', 'listNamespaceKeys(namespace)');
    return [...(this.#namespaces.get(ns) ?? [])];
  }

  // Deletes every key of the namespace, as one transaction when they fit one
  // (as clear()).
  clearNamespace(ns) {
    const ops = [];
    for (const key of this.listNamespaceKeys(ns)) ops.push(NS + ns + NS + key, null);
    return this.#applyLocalSettled(ops, -1);
  }

  // callback(value, key) for every change in the namespace, with the key as
  // written (without the namespace); returns an unsubscribe function.
  observeNamespace(ns, callback) {
    scopedKey(ns, 'x', 'observeNamespace(namespace, callback)');
    if (typeof callback !== 'function') throw new TypeError('observeNamespace(namespace, callback): callback must be a function');
    const channel = NS + ns;
    if (!this.#subscribers.has(channel)) this.#subscribers.set(channel, new Set());
    this.#subscribers.get(channel).add(callback);
    return () => {
      const set = this.#subscribers.get(channel);
      set?.delete(callback);
      if (set?.size === 0) this.#subscribers.delete(channel);
    };
  }

  // bytes: the ops' size (one transaction), or -1 to cut them into as many
  // transactions as they need.
  #applyLocalSettled(ops, bytes, forms = null) {
    const settled = this.#pendingPromise();
    if (ops.length > 0) {
      if (bytes < 0) this.#applyLocal(ops, 0, splitTransactions(ops));
      else this.#applyLocal(ops, bytes, null, forms);
    } else {
      this.#scheduleFlush();
    }
    return settled.then(() => ops.length / 2);
  }

  // Commits the queued operations to the kernel now: in one transaction when
  // they fit one, else in several, cut between operations (each write,
  // delete, batchWrite stays whole).
  flush() {
    // A commit below runs flush() again (the kernel's before-input hook).
    // Operations queued meanwhile (by a subscriber) wait for the next flush,
    // so that they never overtake the transactions still to go here.
    if (this.#committing) return;
    // Taken before the commit, so that the promise settles only after it.
    const settle = this.#settle;
    this.#settle = this.#settled = null;
    if (this.#queued.length === 0) {
      this.#settleWhenStored(settle);
      return;
    }
    const queued = this.#queued;
    const runs = this.#queuedRuns;
    const total = this.#queuedBytes;
    this.#queued = [];
    this.#queuedRuns = [];
    this.#queuedBytes = 0;
    this.#committing = true;
    try {
      if (queued.length / 2 <= TX_MAX_KEYS && TX_BASE_BYTES + total <= TX_MAX_BYTES) {
        this.#commit(queued, 0, queued.length);
      } else {
        let start = 0;
        let end = 0;
        let bytes = 0;
        for (let i = 0; i < runs.length; i += 2) {
          if (end > start && ((runs[i] - start) / 2 > TX_MAX_KEYS || TX_BASE_BYTES + bytes + runs[i + 1] > TX_MAX_BYTES)) {
            this.#commit(queued, start, end);
            start = end;
            bytes = 0;
          }
          end = runs[i];
          bytes += runs[i + 1];
        }
        this.#commit(queued, start, end);
      }
    } finally {
      this.#committing = false;
    }
    this.#settleWhenStored(settle);
  }

  // One kernel transaction of the operations queued[from..to), written as an
  // OperationBatch straight into the kernel's input buffer.
  #commit(queued, from, to) {
    const error = this.#driver.inputBatch(
      operationBatchBound(queued, from, to),
      (heap, at) => writeOperationBatch(heap, at, queued, from, to),
      (k, size, t) => k.commitEncoded(size, t),
    );
    // Every operation was checked before it was queued, so the kernel takes them.
    if (error) console.error(`peercompute: the kernel refused queued operations: ${error}`);
  }

  // Resolves a flushed batch's promise once storage has its records (at once
  // without storage); the commit has already handed them to storage.
  #settleWhenStored(settle) {
    if (settle) (this.#storage?.whenStored() ?? Promise.resolve()).then(settle, settle);
  }

  // ---- state as bytes -----------------------------------------------------------

  // What this replica has seen, for encodeStateAsUpdate() elsewhere.
  encodeStateVector() {
    return this.#driver.input((k) => k.encodeStateVector().slice());
  }

  // Every write a replica with the given state vector lacks (all of the state
  // when none is given), as bytes that applyUpdate() takes.
  encodeStateAsUpdate(stateVector = new Uint8Array(0)) {
    if (!(stateVector instanceof Uint8Array)) {
      throw new TypeError('encodeStateAsUpdate(stateVector): stateVector must be a Uint8Array from encodeStateVector()');
    }
    const result = this.#driver.inputBytes(stateVector, (k, size) => {
      const r = k.encodeStateAsUpdate(size);
      return typeof r === 'string' ? r : r.slice();
    });
    if (typeof result === 'string') throw new Error(`encodeStateAsUpdate(stateVector): ${result}`);
    return result;
  }

  // Merges an update from encodeStateAsUpdate(), as if a peer had sent it.
  applyUpdate(update) {
    if (!(update instanceof Uint8Array)) throw new TypeError('applyUpdate(update): update must be a Uint8Array');
    const error = this.#driver.inputBytes(update, (k, size, t) => k.applyUpdate(size, false, t));
    if (error) throw new Error(`applyUpdate(update): ${error}`);
  }

  // ---- presence ------------------------------------------------------------------------
  // Ephemeral state per node (a cursor, a name, a colour): shown to connected
  // peers, never stored, gone when its node leaves or stops answering. Kept
  // by PresenceManager (presence.js).

  // Sets this node's presence; null clears it. At most MAX_PRESENCE_BYTES of
  // JSON: a larger one throws, and changes nothing.
  setPresence(presence) {
    this.#presence.set(presence);
  }

  // {peerId: presence} for every node that has one, this node included: a
  // new object each call, its presences parsed once and frozen.
  getPresence() {
    return this.#presence.get();
  }

  // callback(presence, {peerId, state}) on every change; returns an unsubscribe function.
  onPresence(callback) {
    return this.#presence.on(callback);
  }

  // A peer's presence changed or went; text is JSON or null.
  applyPresence(peerId, text) {
    this.#presence.apply(peerId, text);
  }

  // ---- subscriptions ---------------------------------------------------------------

  subscribe(key, callback) {
    if (key !== '*') requirePlainKey(key, 'subscribe(key, callback)');
    if (typeof callback !== 'function') throw new TypeError('subscribe(key, callback): callback must be a function');
    if (!this.#subscribers.has(key)) this.#subscribers.set(key, new Set());
    this.#subscribers.get(key).add(callback);
    return () => {
      const set = this.#subscribers.get(key);
      set?.delete(callback);
      if (set?.size === 0) this.#subscribers.delete(key);
    };
  }

  getStats() {
    let subscriberCount = 0;
    for (const [channel, set] of this.#subscribers) if (channel !== '*') subscriberCount += set.size;
    const globalSubscriberCount = this.#subscribers.get('*')?.size ?? 0;
    return {
      isInitialized: true,
      keyCount: this.#plainKeys,
      namespaceCount: this.#namespaces.size,
      version: this.#version,
      localTransactions: this.#localTransactions,
      remoteTransactions: this.#remoteTransactions,
      subscriberCount, // the original library's names
      globalSubscriberCount,
      hasPersistence: this.#storage?.hasPersistence ?? false,
      hasP2PSync: this.#isSyncing(),
    };
  }

  // ---- changes ---------------------------------------------------------------------

  // A change the kernel made: from a peer, from storage, or from applyUpdate().
  // The whole transaction is in the cache before any subscriber runs, so no
  // subscriber ever sees half of a batch.
  applyKernelChanges(origin, changes) {
    const ops = new Array(changes.length * 2);
    for (let i = 0; i < changes.length; i++) {
      const { key, value } = changes[i];
      this.#cacheSet(key, value);
      ops[2 * i] = key;
      ops[2 * i + 1] = value;
    }
    this.#version++;
    this.#remoteTransactions++;
    this.#notify(ops, origin);
  }

  // Applies ops to the cache and queues them: as one transaction of `bytes`,
  // or, given runs ([end, bytes, ...] within ops), as one per run.
  // forms: for each operation, its value as the cache keeps it when the
  // caller has it at hand (a primitive), else undefined.
  #applyLocal(ops, bytes, runs = null, forms = null) {
    const base = this.#queued.length;
    for (let i = 0; i < ops.length; i += 2) {
      const key = ops[i];
      const text = ops[i + 1];
      this.#cacheSet(key, text, forms === null ? undefined : forms[i >> 1]);
      this.#queued.push(key, text);
    }
    if (runs === null) {
      this.#queuedRuns.push(base + ops.length, bytes);
      this.#queuedBytes += bytes;
      this.#localTransactions++;
    } else {
      for (let i = 0; i < runs.length; i += 2) {
        this.#queuedRuns.push(base + runs[i], runs[i + 1]);
        this.#queuedBytes += runs[i + 1];
      }
      this.#localTransactions += runs.length / 2;
    }
    this.#version++;
    this.#scheduleFlush();
    this.#notify(ops, null);
  }

  // Sets or (text null) deletes a cached key, keeping the namespace index.
  #cacheSet(key, text, form = undefined) {
    if (text === null) {
      if (!this.#cache.delete(key)) return;
    } else {
      // One lookup: the size tells whether the key is new.
      const size = this.#cache.size;
      this.#cache.set(key, form === undefined ? cacheValue(text) : form);
      if (this.#cache.size === size) return;
    }
    const scoped = splitScoped(key);
    if (!scoped) {
      this.#plainKeys += text === null ? -1 : 1;
      return;
    }
    const [ns, inner] = scoped;
    let keys = this.#namespaces.get(ns);
    if (text !== null) {
      if (!keys) this.#namespaces.set(ns, (keys = new Set()));
      keys.add(inner);
    } else if (keys) {
      keys.delete(inner);
      if (keys.size === 0) this.#namespaces.delete(ns);
    }
  }

  #scheduleFlush() {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  // The promise of the operations queued now; it resolves to true once they
  // are durable. One promise serves every operation queued before the next
  // flush. Taken before an operation is queued, because a subscriber the
  // operation notifies may flush it at once.
  #pendingPromise() {
    this.#settled ??= new Promise((resolve) => {
      this.#settle = () => resolve(true);
    });
    return this.#settled;
  }

  #notify(ops, origin) {
    const listening = this.#emitter.listenerCount('state-changed') > 0;
    if (!listening && this.#subscribers.size === 0) return; // nobody to tell
    const all = this.#subscribers.get('*');
    for (let i = 0; i < ops.length; i += 2) {
      const key = ops[i];
      if (key.charCodeAt(0) === 0) {
        this.#notifyScoped(key, ops[i + 1]);
        continue;
      }
      const own = this.#subscribers.get(key);
      if (!own && !all && !listening) continue;
      const text = ops[i + 1];
      const cached = text === null ? undefined : this.#cache.get(key);
      const value = cached instanceof JsonText ? JSON.parse(cached.text) : cached;
      if (own) this.#call(own, value, key);
      if (all) this.#call(all, value, key);
      if (listening) this.#emitter.emit('state-changed', { key, value, deleted: text === null, origin });
    }
  }

  #notifyScoped(key, text) {
    const [ns, inner] = splitScoped(key) ?? [];
    const observers = ns === undefined ? null : this.#subscribers.get(NS + ns);
    if (!observers) return;
    const cached = text === null ? undefined : this.#cache.get(key);
    this.#call(observers, cached instanceof JsonText ? JSON.parse(cached.text) : cached, inner);
  }

  #call(set, value, key) {
    for (const callback of set) {
      try {
        callback(value, key);
      } catch (error) {
        console.error(`peercompute: a subscriber of '${key}' threw`, error);
      }
    }
  }
}
