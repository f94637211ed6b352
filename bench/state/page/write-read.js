// The state bench's page (bench/state-vs-yjs.js), section 1, rw; its runner
// side is bench/state/write-read.mjs.
import { createNode } from '/dist/peercompute.js';
import * as Y from 'yjs';
import { expectedSum, freshRoom, keysFor, setStatus } from './common.js';

// ---- 1. n writes to distinct keys, then n reads ----------------------------------
//
// kinds:
//   ours-write     state.write(key, i) per key (node initialized, not started,
//                  enablePersistence: false), then state.flush() — the commit
//                  of all queued writes to the kernel — inside the timing. No
//                  write is awaited (each returns the same pending promise).
//   ours-batch     one state.batchWrite({...}) of all keys, then state.flush();
//                  the object is built before the clock starts
//   ours-persist   as ours-write, on a node with enablePersistence: true (the
//                  library's default); writeMs stops after flush(), durableMs
//                  after awaiting the last write's promise (IndexedDB)
//   yjs-plain      ymap.set(key, i) per key, each its own implicit transaction
//   yjs-transact   the same sets inside one doc.transact()
// Reads are state.read(key) / ymap.get(key) for every key, summed and checked.

async function makeWriter(kind) {
  if (kind.startsWith('ours-')) {
    const enablePersistence = kind === 'ours-persist';
    const node = await createNode({ roomId: freshRoom('rw'), enablePersistence });
    const state = node.getStateManager();
    const read = (key) => state.read(key);
    const count = () => state.keys().length;
    if (kind === 'ours-write' || kind === 'ours-persist') {
      const w = {
        write: (keys) => {
          let last;
          for (let i = 0; i < keys.length; i++) last = state.write(keys[i], i);
          w.loopEnd = performance.now();
          state.flush();
          return last;
        },
        read,
        count,
        persistent: () => state.getStats().hasPersistence,
      };
      return w;
    }
    const w = {
      prepare: (keys) => {
        const entries = {};
        for (let i = 0; i < keys.length; i++) entries[keys[i]] = i;
        return entries;
      },
      write: (keys, entries) => {
        const done = state.batchWrite(entries);
        w.loopEnd = performance.now();
        state.flush();
        return done;
      },
      read,
      count,
      persistent: () => state.getStats().hasPersistence,
    };
    return w;
  }
  const doc = new Y.Doc();
  const ymap = doc.getMap('map');
  const read = (key) => ymap.get(key);
  if (kind === 'yjs-plain') {
    return { write: (keys) => { for (let i = 0; i < keys.length; i++) ymap.set(keys[i], i); }, read, count: () => ymap.size };
  }
  if (kind === 'yjs-transact') {
    return {
      write: (keys) => doc.transact(() => { for (let i = 0; i < keys.length; i++) ymap.set(keys[i], i); }),
      read,
      count: () => ymap.size,
    };
  }
  throw new Error(`unknown kind ${kind}`);
}

export async function writeRead(kind, n, warmup = 2000) {
  // Warm up the same code path on a throwaway instance with other keys.
  if (warmup > 0) {
    const w = await makeWriter(kind);
    const keys = keysFor(warmup, 'w');
    await w.write(keys, w.prepare?.(keys));
    for (const key of keys) w.read(key);
  }
  const target = await makeWriter(kind);
  if (target.persistent && target.persistent() !== (kind === 'ours-persist')) {
    throw new Error(`${kind}: hasPersistence is ${target.persistent()}`);
  }
  const keys = keysFor(n);
  const prepared = target.prepare?.(keys);
  const t0 = performance.now();
  const durable = target.write(keys, prepared);
  const t1 = performance.now();
  let sum = 0;
  for (let i = 0; i < keys.length; i++) sum += target.read(keys[i]);
  const t2 = performance.now();
  if (sum !== expectedSum(n)) throw new Error(`${kind}: read back sum ${sum}, expected ${expectedSum(n)}`);
  const count = target.count();
  if (count !== n) throw new Error(`${kind}: ${count} keys after ${n} writes`);
  // Durable: the promise of the last write (with persistence, once IndexedDB
  // has it; without, at once). Measured from t0, after the reads, so it does
  // not disturb them; the reads take a few ms.
  let durableMs = null;
  if (durable instanceof Promise) {
    await durable;
    durableMs = performance.now() - t0;
  }
  setStatus(`${kind}: ${n} writes ${(t1 - t0).toFixed(1)} ms, reads ${(t2 - t1).toFixed(1)} ms`);
  // Ours: the part of writeMs spent in flush(), committing to the kernel.
  const flushMs = target.loopEnd === undefined ? null : t1 - target.loopEnd;
  return { kind, n, writeMs: t1 - t0, readMs: t2 - t1, totalMs: t2 - t0, durableMs, flushMs };
}
