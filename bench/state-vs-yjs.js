// Page side of bench/state-vs-yjs.mjs: PeerCompute's replicated state against
// Yjs (Y.Map) in the same page. Everything is driven from the runner through
// page.evaluate(() => window.bench.<fn>(...)); nothing runs on load except
// importing both libraries. The runner reloads the page between measurements,
// so each one starts from a fresh heap (the library has no way to free a
// kernel's memory short of that).
//
// 'yjs' and 'lib0/...' resolve through an import map that the runner writes
// into the page (it serves them from node_modules; scripts/serve.mjs does not).
// The runner also serves the independent PROTOCOL.md codec of the state frames
// from tests/js/conformance/, where the conformance test that checks the
// library against it lives.
import { createNode, VERSION } from '/dist/peercompute.js';
import * as Y from 'yjs';
import { relayRawSignals } from './support/raw-signaling.js';
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

const clock = () => performance.timeOrigin + performance.now();
const statusEl = document.getElementById('status');
const setStatus = (text) => {
  if (statusEl) statusEl.textContent = text;
};

// Main-thread tasks over 50 ms in this tab, in clock() time, so the runner can
// tell where a long operation spent its time (this tab, the other tab, or
// neither: the transport).
const longTaskLog = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTaskLog.push({ start: performance.timeOrigin + e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {
  // Long tasks are reported by Chromium; elsewhere the list stays empty.
}

function longTasks(from, to) {
  return longTaskLog.filter((t) => t.start + t.duration > from && t.start < to);
}

const freshRoom = (label) => `bench-state-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const keysFor = (n, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const expectedSum = (n) => (n * (n - 1)) / 2;

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

async function writeRead(kind, n, warmup = 2000) {
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

function b3Yjs(replicas) {
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
async function b3Ours(replicas) {
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

// ---- 3a. sync in one page: encodeStateAsUpdate + applyUpdate ----------------------
//
// Ours: node A (enablePersistence: false) holds n keys written with
// state.write; node B is a fresh node (created before the clock starts; for
// `persistB`, with enablePersistence: true). Timed: A.encodeStateAsUpdate(),
// B.applyUpdate(update), and B.keys().length (must be n). Yjs: the same with
// a Y.Doc holding the same keys, Y.encodeStateAsUpdate + Y.applyUpdate into a
// fresh doc, and its map's size (also a count of all keys); V2 too.

async function syncOursLocal(n, { persistB = false } = {}) {
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

function syncYjs(n) {
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

// ---- two-tab parts: a started node in this tab ------------------------------------

let node = null;
let connectedAt = new Map(); // peerId -> clock()
let connectedWaiters = [];

async function startedNode(roomId, { start = true } = {}) {
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

async function waitConnected(peerId, timeoutMs = 15000) {
  const wait = (async () => {
    while (!connectedAt.has(peerId)) await new Promise((resolve) => connectedWaiters.push(resolve));
    return connectedAt.get(peerId);
  })();
  return withTimeout(wait, timeoutMs, `peer-connected for ${peerId}`);
}

function peerStats() {
  return node ? node.getNetworkManager().getConnectedPeers() : [];
}

async function stopNode() {
  if (!node) return;
  const n = node;
  node = null;
  await n.stop();
}

// ---- 3b. sync a 100,000-key state to a fresh replica in another tab --------------
// (enablePersistence: false on both nodes, as everywhere in this bench)

// Tab A: a started node in `room` holding n keys written with state.write().
async function syncSeed(room, n) {
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

async function syncPrepare(room, n) {
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

async function syncRun(peerId, timeoutMs = 60000) {
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

// ---- transport floor: the same bytes over a bare RTCDataChannel -----------------
// A raw pair between the two tabs (one ordered channel, no ICE servers, like
// the library's), signalled over a BroadcastChannel of its own. The sending
// tab sends `total` bytes in messages of `chunk` bytes at once, as the kernel
// does with a fragmented frame; the other tab notes when the last byte is in.

let raw = null;

function rawEntry(name, role) {
  rawClose();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const bc = new BroadcastChannel(name);
  const entry = { pc, bc, channel: null, received: 0, expect: Infinity, doneAt: null, wake: null };
  entry.opened = new Promise((resolve, reject) => {
    entry.resolveOpen = resolve;
    entry.fail = reject;
  });
  entry.opened.catch(() => {});
  relayRawSignals(bc, role, pc, (error) => entry.fail(error));
  raw = entry;
  return entry;
}

function rawAttach(entry, channel) {
  entry.channel = channel;
  channel.binaryType = 'arraybuffer';
  channel.onopen = () => entry.resolveOpen(clock());
  channel.onmessage = (event) => {
    entry.received += event.data.byteLength ?? event.data.length;
    if (entry.received >= entry.expect && entry.doneAt === null) {
      entry.doneAt = clock();
      entry.wake?.();
    }
  };
}

function rawListen(name) {
  const entry = rawEntry(name, 'answer');
  entry.pc.ondatachannel = (event) => rawAttach(entry, event.channel);
  return true;
}

async function rawOffer(name, timeoutMs = 15000) {
  const entry = rawEntry(name, 'offer');
  rawAttach(entry, entry.pc.createDataChannel('bench-raw', { ordered: true }));
  await entry.pc.setLocalDescription(await entry.pc.createOffer());
  entry.bc.postMessage({ from: 'offer', sdp: entry.pc.localDescription.toJSON() });
  return withTimeout(entry.opened, timeoutMs, 'raw data channel open (offering tab)');
}

async function rawWaitOpen(timeoutMs = 15000) {
  return withTimeout(raw.opened, timeoutMs, 'raw data channel open (answering tab)');
}

function rawArm(total) {
  raw.received = 0;
  raw.expect = total;
  raw.doneAt = null;
  return true;
}

function rawSend(total, chunk) {
  const t0 = clock();
  const piece = new Uint8Array(chunk);
  for (let sent = 0; sent < total; sent += chunk) raw.channel.send(sent + chunk <= total ? piece : piece.subarray(0, total - sent));
  return t0;
}

async function rawWait(timeoutMs = 60000) {
  if (raw.doneAt === null) await withTimeout(new Promise((resolve) => (raw.wake = resolve)), timeoutMs, 'raw transfer');
  return raw.doneAt;
}

function rawClose() {
  if (!raw) return;
  raw.bc.close();
  raw.channel?.close();
  raw.pc.close();
  raw = null;
}

window.bench = {
  ready: true,
  version: VERSION,
  writeRead,
  b3Yjs,
  b3Ours,
  startedNode,
  waitConnected,
  stopNode,
  syncSeed,
  syncPrepare,
  syncRun,
  syncYjs,
  syncOursLocal,
  longTasks,
  rawListen,
  rawOffer,
  rawWaitOpen,
  rawArm,
  rawSend,
  rawWait,
  rawClose,
};
setStatus(`ready: PeerCompute ${VERSION}`);
