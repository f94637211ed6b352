// The state bench's page (bench/state-vs-yjs.js), section 3, sync in one
// page; its runner side is bench/state/sync.mjs.
import { createNode } from '/dist/peercompute.js';
import * as Y from 'yjs';
import { decodeStateFrame } from '/tests/js/conformance/state-wire.js';
import { freshRoom, keysFor, setStatus } from './common.js';

// ---- 3a. sync in one page: encodeStateAsUpdate + applyUpdate ----------------------
//
// Ours: node A (enablePersistence: false) holds n keys written with
// state.write; node B is a fresh node (created before the clock starts; for
// `persistB`, with enablePersistence: true). Timed: A.encodeStateAsUpdate(),
// B.applyUpdate(update), and B.keys().length (must be n). Yjs: the same with
// a Y.Doc holding the same keys, Y.encodeStateAsUpdate + Y.applyUpdate into a
// fresh doc, and its map's size (also a count of all keys); V2 too.

export async function syncOursLocal(n, { persistB = false } = {}) {
  const a = await createNode({ roomId: freshRoom('sync-a'), enablePersistence: false });
  const stateA = a.getStateManager();
  const keys = keysFor(n);
  const s0 = performance.now();
  for (let i = 0; i < n; i++) stateA.write(keys[i], i);
  stateA.flush();
  const s1 = performance.now();
  const b = await createNode({ roomId: freshRoom('sync-b'), enablePersistence: persistB });
  const stateB = b.getStateManager();
  if (stateB.getStats().hasPersistence !== persistB) throw new Error(`sync ours: B hasPersistence is ${stateB.getStats().hasPersistence}`);
  const t0 = performance.now();
  const update = stateA.encodeStateAsUpdate();
  const t1 = performance.now();
  stateB.applyUpdate(update);
  const count = stateB.keys().length;
  const t2 = performance.now();
  if (count !== n) throw new Error(`sync ours: B has ${count} keys, expected ${n}`);
  for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
    if (stateB.read(`k${i}`) !== i) throw new Error(`sync ours: k${i} = ${stateB.read(`k${i}`)}, expected ${i}`);
  }
  // B's own vector now covers A: a delta from A for B is empty.
  const delta = stateA.encodeStateAsUpdate(stateB.encodeStateVector());
  const deltaWrites = decodeStateFrame(delta).writes.length;
  if (deltaWrites !== 0) throw new Error(`sync ours: after the sync A still has ${deltaWrites} writes for B`);
  setStatus(`sync ours (in page): ${n} keys, ${update.length} B, ${(t2 - t0).toFixed(1)} ms`);
  return { n, bytes: update.length, encodeMs: t1 - t0, applyMs: t2 - t1, totalMs: t2 - t0, seedWriteMs: s1 - s0, deltaBytes: delta.length, persistB };
}

export function syncYjs(n) {
  const doc = new Y.Doc();
  const ymap = doc.getMap('map');
  const keys = keysFor(n);
  doc.transact(() => {
    for (let i = 0; i < n; i++) ymap.set(keys[i], i);
  });
  const t0 = performance.now();
  const update = Y.encodeStateAsUpdate(doc);
  const t1 = performance.now();
  const fresh = new Y.Doc();
  Y.applyUpdate(fresh, update);
  const size = fresh.getMap('map').size;
  const t2 = performance.now();
  const updateV2 = Y.encodeStateAsUpdateV2(doc);
  const freshV2 = new Y.Doc();
  Y.applyUpdateV2(freshV2, updateV2);
  const sizeV2 = freshV2.getMap('map').size;
  const t3 = performance.now();
  if (size !== n || sizeV2 !== n) throw new Error(`sync yjs: the fresh docs have ${size} / ${sizeV2} keys, expected ${n}`);
  for (const d of [fresh, freshV2]) {
    const m = d.getMap('map');
    if (m.get('k0') !== 0 || m.get(`k${n - 1}`) !== n - 1) throw new Error('sync yjs: the fresh doc is incomplete');
  }
  return {
    n,
    bytes: update.length,
    encodeMs: t1 - t0,
    applyMs: t2 - t1,
    totalMs: t2 - t0,
    bytesV2: updateV2.length,
    totalV2Ms: t3 - t2,
  };
}
