// StateManager: the replicated key/value state as an application sees it.
//
// The C++ kernel holds the state and decides every merge. This class keeps a
// read cache that the kernel's change events keep exact, so reads never cross
// into WebAssembly. Objects are cached as JSON text and parsed on each read,
// so a caller that mutates what it read cannot change the state behind the
// kernel's back.
import { requireKey, toJsonText } from './json-value.js';

function decode(text) {
  return JSON.parse(text);
}

function cacheable(text) {
  const c = text.charCodeAt(0);
  // '{' and '[' start mutable values; everything else parses to a primitive.
  return c === 0x7b || c === 0x5b ? { text } : { value: decode(text) };
}

export class StateManager {
  #driver;
  #cache = new Map(); // key -> {value} for primitives, {text} for objects and arrays
  #subscribers = new Map(); // key or '*' -> Set<callback>
  #emitter;
  #isSyncing;
  #version = 0;
  #localTransactions = 0;
  #remoteTransactions = 0;

  // isSyncing(): whether the node is started, so the state syncs with peers.
  constructor(driver, emitter, isSyncing) {
    this.#driver = driver;
    this.#emitter = emitter;
    this.#isSyncing = isSyncing;
  }

  // Called by the node for each StateChanged output of the kernel. The whole
  // transaction is in the cache before any subscriber runs, so no subscriber
  // ever sees half of a batch.
  applyKernelChanges(origin, changes) {
    for (const { key, value } of changes) {
      if (value === null) this.#cache.delete(key);
      else this.#cache.set(key, cacheable(value));
    }
    this.#version++;
    if (origin === '') this.#localTransactions++;
    else this.#remoteTransactions++;
    for (const { key, value } of changes) {
      const parsed = value === null ? undefined : decode(value);
      this.#notify(key, parsed, key);
      this.#notify('*', parsed, key);
      this.#emitter.emit('state-changed', { key, value: parsed, deleted: value === null, origin: origin || null });
    }
  }

  #notify(channel, value, key) {
    const set = this.#subscribers.get(channel);
    if (!set) return;
    for (const callback of [...set]) {
      try {
        callback(value, key);
      } catch (error) {
        console.error(`peercompute: a subscriber of '${channel}' threw`, error);
      }
    }
  }

  #run(where, fn) {
    const error = this.#driver.input(fn);
    if (error) throw new Error(`${where}: ${error}`);
  }

  read(key) {
    requireKey(key, 'read(key)');
    const slot = this.#cache.get(key);
    if (slot === undefined) return undefined;
    return 'value' in slot ? slot.value : decode(slot.text);
  }

  has(key) {
    requireKey(key, 'has(key)');
    return this.#cache.has(key);
  }

  write(key, value) {
    requireKey(key, 'write(key, value)');
    const text = toJsonText(value, 'write(key, value): value');
    this.#run('write(key, value)', (k, t) => k.write(key, text, t));
    return true;
  }

  delete(key) {
    requireKey(key, 'delete(key)');
    const existed = this.#cache.has(key);
    this.#run('delete(key)', (k, t) => k.remove(key, t));
    return existed;
  }

  // Applies every entry as one atomic transaction: peers apply all or none,
  // and subscribers run only after all of it is applied. A value of undefined
  // deletes its key.
  batchWrite(entries) {
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw new TypeError('batchWrite(entries): entries must be an object of key/value pairs');
    }
    const ops = Object.entries(entries).map(([key, value]) => {
      requireKey(key, 'batchWrite(entries)');
      return [key, value === undefined ? null : toJsonText(value, `batchWrite(entries): entries['${key}']`)];
    });
    this.#run('batchWrite(entries)', (k, t) => {
      for (const [key, text] of ops) {
        if (text === null) k.stageDelete(key);
        else k.stageWrite(key, text);
      }
      return k.commitStaged(t);
    });
    return ops.length;
  }

  subscribe(key, callback) {
    if (key !== '*') requireKey(key, 'subscribe(key, callback)');
    if (typeof callback !== 'function') throw new TypeError('subscribe(key, callback): callback must be a function');
    if (!this.#subscribers.has(key)) this.#subscribers.set(key, new Set());
    this.#subscribers.get(key).add(callback);
    return () => {
      const set = this.#subscribers.get(key);
      set?.delete(callback);
      if (set?.size === 0) this.#subscribers.delete(key);
    };
  }

  keys() {
    return [...this.#cache.keys()];
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
      keyCount: this.#cache.size,
    };
  }

  clear() {
    const count = this.#cache.size;
    this.#run('clear()', (k, t) => k.clear(t));
    return count;
  }

  getStats() {
    let subscriberCount = 0;
    for (const [channel, set] of this.#subscribers) if (channel !== '*') subscriberCount += set.size;
    const globalSubscriberCount = this.#subscribers.get('*')?.size ?? 0;
    return {
      isInitialized: true,
      keyCount: this.#cache.size,
      version: this.#version,
      localTransactions: this.#localTransactions,
      remoteTransactions: this.#remoteTransactions,
      subscriberCount, // the original library's names
      globalSubscriberCount,
      hasPersistence: false,
      hasP2PSync: this.#isSyncing(),
    };
  }
}
