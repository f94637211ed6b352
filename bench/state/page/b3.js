// The state bench's page (bench/state-vs-yjs.js), section 2, b3; its runner
// side is bench/state/b3.mjs.
import { createNode } from '/dist/peercompute.js';
import * as Y from 'yjs';
import {
  FrameType,
  decodeStateFrame,
  encodeSyncResponseFrame,
  shortVector,
  encodeOwnUpdateFrame,
  randomReplicaId,
  reencodeStateFrame,
  stampGreater,
} from '/tests/js/conformance/state-wire.js';
import { freshRoom, setStatus } from './common.js';

// ---- 2. B3.1 of dmonad/crdt-benchmarks: 20*floor(sqrt(N)) replicas set key 'v' ---
//
// Yjs, two ways:
//  - as crdt-benchmarks does it (benchmarks/yjs/factory.js, js-lib/b3.js):
//    each replica's 'updateV2' event is its update; the time is applying all of
//    them to replica 1 (which already holds its own write) inside one
//    transact() with Y.applyUpdateV2.
//  - V1, per replica Y.encodeStateAsUpdate(doc); the time is applying all of
//    them (Y.applyUpdate) to one fresh doc inside one transact().
// Both report the summed update bytes.

export function b3Yjs(replicas) {
  const docs = [];
  const v2 = [];
  const v1Events = [];
  for (let i = 0; i < replicas; i++) {
    const doc = new Y.Doc();
    doc.on('updateV2', (u) => v2.push(u));
    doc.on('update', (u) => v1Events.push(u));
    docs.push(doc);
  }
  for (let i = 0; i < replicas; i++) docs[i].getMap('map').set('v', i);
  const v1State = docs.map((doc) => Y.encodeStateAsUpdate(doc));
  const clientIds = new Set(docs.map((d) => d.clientID));
  if (clientIds.size !== replicas) throw new Error(`B3 yjs: only ${clientIds.size} distinct clientIDs among ${replicas} docs`);

  const sum = (list) => list.reduce((s, u) => s + u.length, 0);
  const sizes = { bytesV2Events: sum(v2), updatesV2: v2.length, bytesV1Events: sum(v1Events), bytesV1State: sum(v1State) };

  // crdt-benchmarks' method. Replica 1 keeps its update listeners, as there;
  // they fire once, at the end of the transaction.
  const target = docs[1];
  const t0 = performance.now();
  target.transact(() => {
    for (const u of v2) Y.applyUpdateV2(target, u);
  }, true);
  const t1 = performance.now();

  // V1, fresh doc.
  const fresh = new Y.Doc();
  const t2 = performance.now();
  fresh.transact(() => {
    for (const u of v1State) Y.applyUpdate(fresh, u);
  });
  const t3 = performance.now();

  const winnerA = target.getMap('map').get('v');
  const winnerB = fresh.getMap('map').get('v');
  if (winnerA !== winnerB) throw new Error(`B3 yjs: merged docs disagree (${winnerA} vs ${winnerB})`);
  return {
    replicas,
    ...sizes,
    mergeV2Ms: t1 - t0,
    mergeV1FreshMs: t3 - t2,
    winner: winnerA,
  };
}

// Ours: `replicas` real nodes in this page (each its own kernel in the one
// shared wasm module, enablePersistence: false, never started), each writes
// 'v' = its index; then each one's state.encodeStateAsUpdate() is its update.
// The time is applying all of them with applyUpdate() to one fresh node (the
// same as Yjs's V1 fresh-doc method, one call per update since there is no
// transaction to wrap them in), then applying them all again (no change).
//
// Cross-checks: every update is decoded and re-encoded with the codec in
// tests/js/conformance/state-wire.js (written from PROTOCOL.md) and must come back byte for
// byte; the merged node must hold the winner that the merge rule picks from
// the decoded stamps; and the size of the same update is also computed from
// scratch with that codec (random 53-bit replica id, wall = now, logical 0,
// seq 1, the holder's vector), as the bench did before the hooks existed.
// For reference, the size of each write as the Update frame that a started
// node broadcasts to its peers when it writes (no state vector) is reported too.
export async function b3Ours(replicas) {
  const room = freshRoom('b3');
  const t0 = performance.now();
  const nodes = [];
  for (let i = 0; i < replicas; i++) nodes.push(await createNode({ roomId: room, enablePersistence: false }));
  const t1 = performance.now();
  for (let i = 0; i < replicas; i++) nodes[i].getStateManager().write('v', i);
  const t2 = performance.now();
  const updates = nodes.map((node) => node.getStateManager().encodeStateAsUpdate());
  const t3 = performance.now();

  // Cross-checks, off the clock.
  let best = null;
  const replicaIds = new Set();
  // The same write as the frame a started node sends its peers (an
  // OwnUpdate; e2e/wire-frames.spec.js checks the codec against the frame a
  // real tab sends).
  const wireFrames = [];
  for (let i = 0; i < replicas; i++) {
    const frame = decodeStateFrame(updates[i]);
    if (frame.type !== FrameType.SyncResponse) throw new Error(`B3 ours: update ${i} is frame type ${frame.type}`);
    if (frame.writes.length !== 1 || frame.writes[0].key !== 'v' || frame.writes[0].value !== JSON.stringify(i)) {
      throw new Error(`B3 ours: update ${i} does not carry exactly 'v' = ${i}`);
    }
    const again = reencodeStateFrame(frame);
    if (again.length !== updates[i].length || again.some((b, j) => b !== updates[i][j])) {
      throw new Error(`B3 ours: update ${i} does not re-encode to the same bytes with the PROTOCOL.md codec`);
    }
    const w = frame.writes[0];
    wireFrames.push(encodeOwnUpdateFrame(frame.writes).length);
    replicaIds.add(w.replicaId);
    if (best === null || stampGreater(w, best)) best = w;
  }
  if (replicaIds.size !== replicas) throw new Error(`B3 ours: only ${replicaIds.size} distinct replica ids among ${replicas} nodes`);
  const winner = Number(best.value);
  const wall = Date.now();
  const analytic = [];
  for (let i = 0; i < replicas; i++) {
    const replicaId = randomReplicaId();
    const write = { key: 'v', value: JSON.stringify(i), wall, logical: 0, replicaId, seq: 1 };
    analytic.push(encodeSyncResponseFrame(shortVector([{ replicaId, seq: 1 }], [write]), [write]).length);
  }

  const target = await createNode({ roomId: room, enablePersistence: false });
  const state = target.getStateManager();
  let changes = 0;
  const off = state.subscribe('v', () => changes++);
  const t4 = performance.now();
  for (const u of updates) state.applyUpdate(u);
  const t5 = performance.now();
  const changesFirst = changes;
  for (const u of updates) state.applyUpdate(u);
  const t6 = performance.now();
  off();
  if (state.read('v') !== winner) throw new Error(`B3 ours: 'v' = ${state.read('v')} after the merge, expected ${winner}`);
  if (changes !== changesFirst) throw new Error(`B3 ours: re-applying the updates changed 'v' ${changes - changesFirst} time(s)`);
  const sizes = updates.map((u) => u.length);
  const sum = (list) => list.reduce((s, x) => s + x, 0);
  setStatus(`b3 ours: ${replicas} nodes, ${sum(sizes)} B, merge ${(t5 - t4).toFixed(1)} ms`);
  return {
    replicas,
    bytes: sum(sizes),
    minUpdate: Math.min(...sizes),
    maxUpdate: Math.max(...sizes),
    analyticBytes: sum(analytic),
    wireBytes: sum(wireFrames),
    createMs: t1 - t0,
    writeMs: t2 - t1,
    encodeMs: t3 - t2,
    mergeMs: t5 - t4,
    reapplyMs: t6 - t5,
    changes: changesFirst,
    winner,
  };
}
