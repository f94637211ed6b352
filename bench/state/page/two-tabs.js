// The state bench's page (bench/state-vs-yjs.js), section 3, sync between
// two tabs; its runner side is bench/state/sync.mjs.
import { createNode } from '/dist/peercompute.js';
import { clock, keysFor, setStatus, withTimeout } from './common.js';

// ---- two-tab parts: a started node in this tab ------------------------------------

let node = null;
let connectedAt = new Map(); // peerId -> clock()
let connectedWaiters = [];

export async function startedNode(roomId, { start = true } = {}) {
  if (node) await node.stop();
  const n = await createNode({ roomId, enablePersistence: false });
  const seen = new Map();
  n.on('peer-connected', ({ peerId }) => {
    if (!seen.has(peerId)) seen.set(peerId, clock());
    for (const wake of connectedWaiters.splice(0)) wake();
  });
  node = n;
  connectedAt = seen;
  connectedWaiters = [];
  if (start) await n.start();
  return n.nodeId;
}

export async function waitConnected(peerId, timeoutMs = 15000) {
  const wait = (async () => {
    while (!connectedAt.has(peerId)) await new Promise((resolve) => connectedWaiters.push(resolve));
    return connectedAt.get(peerId);
  })();
  return withTimeout(wait, timeoutMs, `peer-connected for ${peerId}`);
}

function peerStats() {
  return node ? node.getNetworkManager().getConnectedPeers() : [];
}

export async function stopNode() {
  if (!node) return;
  const n = node;
  node = null;
  await n.stop();
}

// ---- 3b. sync a 100,000-key state to a fresh replica in another tab --------------
// (enablePersistence: false on both nodes, as everywhere in this bench)

// Tab A: a started node in `room` holding n keys written with state.write().
export async function syncSeed(room, n) {
  const id = await startedNode(room);
  const state = node.getStateManager();
  const keys = keysFor(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) state.write(keys[i], i);
  state.flush();
  const t1 = performance.now();
  if (state.getStats().keyCount !== n) throw new Error(`sync seed: ${state.getStats().keyCount} keys, expected ${n}`);
  setStatus(`seeded ${n} keys in room ${room}`);
  return { nodeId: id, writeMs: t1 - t0 };
}

// Tab B: an initialized node in `room`, counting arriving keys.
let syncWatch = null;

export async function syncPrepare(room, n) {
  const id = await startedNode(room, { start: false });
  const state = node.getStateManager();
  const w = { n, seen: 0, firstAt: null, doneAt: null, wake: null };
  w.off = state.subscribe('*', () => {
    if (w.firstAt === null) w.firstAt = clock();
    if (++w.seen === w.n && w.doneAt === null) {
      w.doneAt = clock();
      w.wake?.();
    }
  });
  syncWatch = w;
  return id;
}

export async function syncRun(peerId, timeoutMs = 60000) {
  const w = syncWatch;
  const t0 = clock();
  await node.start();
  const startReturnedAt = clock();
  const connected = await waitConnected(peerId, timeoutMs);
  if (w.doneAt === null) await withTimeout(new Promise((resolve) => (w.wake = resolve)), timeoutMs, 'sync of all keys');
  w.off();
  syncWatch = null;
  const state = node.getStateManager();
  const keyCount = state.getStats().keyCount;
  if (keyCount !== w.n) throw new Error(`sync: ${keyCount} keys at the end, expected ${w.n}`);
  // Spot check the content.
  for (const i of [0, 1, Math.floor(w.n / 2), w.n - 1]) {
    if (state.read(`k${i}`) !== i) throw new Error(`sync: k${i} = ${state.read(`k${i}`)}, expected ${i}`);
  }
  const peers = peerStats();
  const from = peers.find((p) => p.peerId === peerId);
  return {
    t0,
    startReturnedAt,
    connectedAt: connected,
    firstChangeAt: w.firstAt,
    doneAt: w.doneAt,
    keyCount,
    bytesIn: peers.reduce((s, p) => s + p.bytesIn, 0),
    bytesOut: peers.reduce((s, p) => s + p.bytesOut, 0),
    framesIn: from?.framesIn ?? null,
  };
}
