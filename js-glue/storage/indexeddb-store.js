// IndexedDbStore: a node's state on disk, as the log of records the kernel
// emits (one per change), replaced now and then by one snapshot. Nothing here
// understands the records; the kernel writes and reads them.
//
// One database per room. Tabs of the same room share it: compaction reads
// every record (other tabs' included), lets the kernel merge them, and
// replaces them with one snapshot, all inside one transaction, so no tab's
// record is lost to another's compaction.

import { TickBatcher } from './tick-batcher.js';

const STORE = 'log';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export class IndexedDbStore {
  #db;
  #batches = new TickBatcher((records) => {
    const tx = this.#db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    for (const record of records) store.add(record);
    return done(tx);
  });

  constructor(db) {
    this.#db = db;
  }

  static databaseName(roomId) {
    return `peercompute:${roomId}`;
  }

  // Resolves to {store} or, where IndexedDB cannot be used (private mode,
  // a sandboxed frame, Node), to {error} saying why.
  static async open(roomId) {
    if (typeof indexedDB === 'undefined') return { error: 'IndexedDB is not available here' };
    try {
      const req = indexedDB.open(IndexedDbStore.databaseName(roomId), 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { autoIncrement: true });
      const db = await request(req);
      return { store: new IndexedDbStore(db) };
    } catch (error) {
      return { error: `IndexedDB could not be opened: ${error?.message ?? error}` };
    }
  }

  get hasPersistence() {
    return true;
  }

  async loadAll() {
    const tx = this.#db.transaction(STORE, 'readonly');
    const records = await request(tx.objectStore(STORE).getAll());
    return records.map((r) => new Uint8Array(r));
  }

  // Queues a record; all records queued in one tick commit in one transaction.
  append(bytes) {
    this.#batches.add(bytes);
  }

  // Settles once every record appended so far is committed.
  whenStored() {
    return this.#batches.whenStored();
  }

  // Replaces every stored record with one snapshot. merge(records) gets the
  // stored records and returns the snapshot that covers them; it runs inside
  // the transaction and must not wait on anything.
  async compact(merge) {
    await this.whenStored();
    const tx = this.#db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const all = store.getAll();
    all.onsuccess = () => {
      const snapshot = merge(all.result.map((r) => new Uint8Array(r)));
      store.clear();
      store.add(snapshot);
    };
    await done(tx);
  }

  async clear() {
    await this.whenStored();
    const tx = this.#db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).clear();
    await done(tx);
  }

  close() {
    this.#db.close();
  }
}
