// LevelDbStore: a node's state on disk in Node.js, with IndexedDbStore's
// interface and semantics: the log of records the kernel emits (one per
// change), replaced now and then by one snapshot, read back in the order it
// was written. Nothing here understands the records; the kernel writes and
// reads them.
//
// One LevelDB database per room, in a directory under the dataDir option.
// LevelDB lets one process open a database (its LOCK file), and that process
// only once, so the nodes of one room in one process share one open database
// here, as the tabs of a room share one IndexedDB database; a second process
// on the same directory fails to open it, and the error names the lock.
//
// classic-level (LevelDB's bindings) is an optional peer dependency, imported
// only here, only when dataDir is set, by a specifier that bundlers do not
// follow, so that browser bundles never pull it in.
//
// Durability. A write's promise resolves once LevelDB's write returned, and
// the writes use LevelDB's default, sync: false. That survives a kill of the
// process (kill -9, a crash, an abort): LevelDB appends each write to its log
// file and hands it to the operating system (log::Writer does a write(2)
// per record, no fsync) before the write returns, so the record is in the
// OS's page cache, which outlives the process; at the next open LevelDB
// replays the log. What it does not survive is the machine going down before
// the OS writes the page out (a few seconds, typically); the log's records
// are checksummed, so that loses only a tail of the latest writes, never the
// store's consistency. That is the browser store's guarantee too (IndexedDB
// transactions commit with relaxed durability by default: in Firefox,
// Safari, and Chromium from version 121), and the state is replicated to the
// room's peers besides. An fsync per write would instead hold every write to
// the disk's flush time.
// Compaction, which deletes records, is written with sync: true: it is rare,
// and each one leaves a durable checkpoint of the whole state.

import { importModule, importOptional, installCommand } from '../optional-import.js';
import { TickBatcher } from './tick-batcher.js';

const PACKAGE = 'classic-level';
const INSTALL = installCommand(PACKAGE);
const KEY_BYTES = 8; // a record's key: its sequence number, big-endian, so that keys sort in append order

// Open databases of this process: absolute directory -> {opening:
// Promise<Shared>, users}, users counted as soon as an open() asks, so that a
// close() meanwhile cannot close the database under it; and those closing,
// which an open of the same directory waits for.
const databases = new Map();
const closing = new Map();

// A database and what its stores share: the next sequence number.
class Shared {
  constructor(db, location, nextSeq) {
    this.db = db;
    this.location = location;
    this.nextSeq = nextSeq;
  }
}

function keyOf(seq) {
  const key = new Uint8Array(KEY_BYTES);
  const view = new DataView(key.buffer);
  view.setUint32(0, Math.floor(seq / 2 ** 32));
  view.setUint32(4, seq >>> 0);
  return key;
}

function seqOf(key) {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

// The records as the IndexedDB store gives them: Uint8Arrays (LevelDB's are Buffers).
function plain(bytes) {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// The ClassicLevel class, or an Error that names the package to install.
// importPackage(name) imports a module; tests replace it to simulate a
// missing package.
export async function loadClassicLevel(importPackage = importModule) {
  const module = await importOptional(PACKAGE, 'peercompute: the dataDir option keeps the state in LevelDB through', { importPackage });
  const ClassicLevel = module.ClassicLevel ?? module.default?.ClassicLevel;
  if (typeof ClassicLevel !== 'function') throw new Error(`peercompute: the package ${PACKAGE} has no ClassicLevel class; install version 3: ${INSTALL}`);
  return ClassicLevel;
}

async function openShared(location, lockFile, ClassicLevel) {
  const db = new ClassicLevel(location, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open(); // creates the directory, parents included
  } catch (error) {
    const cause = error?.cause ?? error;
    if (cause?.code === 'LEVEL_LOCKED') {
      const locked = new Error(
        `peercompute: the state database ${location} is locked: its lock file ${lockFile} is held by another process ` +
          '(another node or keeper with this dataDir and room). Stop that process, or give this one another dataDir.',
        { cause: error },
      );
      locked.code = 'PEERCOMPUTE_DATA_DIR_LOCKED';
      throw locked;
    }
    throw new Error(`peercompute: could not open the state database ${location} (dataDir): ${cause?.message ?? cause}`, { cause: error });
  }
  const [last] = await db.keys({ reverse: true, limit: 1 }).all();
  return new Shared(db, location, last === undefined ? 0 : seqOf(last) + 1);
}

export class LevelDbStore {
  #shared;
  #entry;
  #batches = new TickBatcher((records) => {
    // Keys are taken now, in call order, so the log reads back in append
    // order whichever batch LevelDB happens to finish first.
    const ops = records.map((value) => ({ type: 'put', key: keyOf(this.#shared.nextSeq++), value }));
    return this.#shared.db.batch(ops);
  });
  #closed = false;

  constructor(shared, entry) {
    this.#shared = shared;
    this.#entry = entry;
  }

  // The room's directory under dataDir: readable, safe on every file system
  // (case-insensitive ones too) and short enough for any room (up to 1 KiB):
  // the room's letters, digits, '-' and '_', then a hash of the name the
  // IndexedDB store gives the room's database.
  static async directoryName(roomId) {
    const readable = roomId.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 48) || 'room';
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`peercompute:${roomId}`));
    const hex = Array.from(new Uint8Array(digest, 0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
    return `${readable}-${hex}`;
  }

  // Resolves to the room's store under dataDir; rejects with an Error that
  // says what to do when classic-level is missing or the database is held by
  // another process. Unlike IndexedDB's, a failure here is not a fallback to
  // memory: the app asked for the state on disk.
  static async open(roomId, dataDir, { importPackage = importModule } = {}) {
    const ClassicLevel = await loadClassicLevel(importPackage);
    const pathModule = 'node:path';
    const { join, resolve } = await importModule(pathModule);
    const location = join(resolve(dataDir), await LevelDbStore.directoryName(roomId));
    await closing.get(location);
    let entry = databases.get(location);
    if (!entry) {
      entry = { opening: openShared(location, join(location, 'LOCK'), ClassicLevel), users: 0 };
      databases.set(location, entry);
      entry.opening.catch(() => databases.get(location) === entry && databases.delete(location)); // a later open tries again
    }
    entry.users++;
    return new LevelDbStore(await entry.opening, entry);
  }

  get hasPersistence() {
    return true;
  }

  // The directory of this room's database.
  get location() {
    return this.#shared.location;
  }

  async loadAll() {
    return (await this.#shared.db.values().all()).map(plain);
  }

  // Queues a record; all records queued in one tick are written in one batch.
  append(bytes) {
    this.#batches.add(bytes);
  }

  // Settles once every record appended so far is written.
  whenStored() {
    return this.#batches.whenStored();
  }

  // Replaces the stored records with one snapshot, in one atomic batch.
  // merge(records) gets them and returns the snapshot that covers them; it
  // must not wait on anything. Records other nodes of this process append
  // meanwhile are not among those deleted, so none is lost.
  async compact(merge) {
    await this.whenStored();
    const { db } = this.#shared;
    const entries = await db.iterator().all();
    const snapshot = merge(entries.map(([, value]) => plain(value)));
    const ops = entries.map(([key]) => ({ type: 'del', key }));
    ops.push({ type: 'put', key: keyOf(this.#shared.nextSeq++), value: snapshot.slice() });
    await db.batch(ops, { sync: true });
  }

  async clear() {
    await this.whenStored();
    await this.#shared.db.clear();
  }

  // The database closes (and its lock is released) when the last of this
  // process's stores on it closes.
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.whenStored();
    if (--this.#entry.users > 0) return;
    const { location, db } = this.#shared;
    databases.delete(location);
    const closed = db.close().finally(() => closing.delete(location));
    closing.set(location, closed.catch(() => undefined));
    await closed;
  }
}
