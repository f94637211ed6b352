// Page side of bench/state-vs-yjs.mjs: PeerCompute's replicated state against
// Yjs (Y.Map) in the same page. Everything is driven from the runner through
// page.evaluate(() => window.bench.<fn>(...)); nothing runs on load except
// importing both libraries. The runner reloads the page between measurements,
// so each one starts from a fresh heap (the library has no way to free a
// kernel's memory short of that).
//
// 'yjs' and 'lib0/...' resolve through an import map that the runner writes
// into the page (it serves them from node_modules; scripts/serve.mjs does not).
import { createNode, VERSION } from '/dist/peercompute.js';
import * as Y from 'yjs';
import { encodeUpdateFrame, randomReplicaId } from './state-vs-yjs-wire.js';

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
//   ours-write     state.write(key, i) per key (node initialized, not started)
//   ours-batch     one state.batchWrite({...}) of all keys; the object is built
//                  before the clock starts
//   yjs-plain      ymap.set(key, i) per key, each its own implicit transaction
//   yjs-transact   the same sets inside one doc.transact()
// Reads are state.read(key) / ymap.get(key) for every key, summed and checked.

async function makeWriter(kind, n) {
  if (kind === 'ours-write' || kind === 'ours-batch') {
    const node = await createNode({ roomId: freshRoom('rw') });
    const state = node.getStateManager();
    const read = (key) => state.read(key);
    if (kind === 'ours-write') {
      return { write: (keys) => { for (let i = 0; i < keys.length; i++) state.write(keys[i], i); }, read, count: () => state.getStats().keyCount };
    }
    return {
      prepare: (keys) => {
        const entries = {};
        for (let i = 0; i < keys.length; i++) entries[keys[i]] = i;
        return entries;
      },
      write: (keys, entries) => state.batchWrite(entries),
      read,
      count: () => state.getStats().keyCount,
    };
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
    const w = await makeWriter(kind, warmup);
    const keys = keysFor(warmup, 'w');
    w.write(keys, w.prepare?.(keys));
    for (const key of keys) w.read(key);
  }
  const target = await makeWriter(kind, n);
  const keys = keysFor(n);
  const prepared = target.prepare?.(keys);
  const t0 = performance.now();
  target.write(keys, prepared);
  const t1 = performance.now();
  let sum = 0;
  for (let i = 0; i < keys.length; i++) sum += target.read(keys[i]);
  const t2 = performance.now();
  if (sum !== expectedSum(n)) throw new Error(`${kind}: read back sum ${sum}, expected ${expectedSum(n)}`);
  const count = target.count();
  if (count !== n) throw new Error(`${kind}: ${count} keys after ${n} writes`);
  setStatus(`${kind}: ${n} writes ${(t1 - t0).toFixed(1)} ms, reads ${(t2 - t1).toFixed(1)} ms`);
  return { kind, n, writeMs: t1 - t0, readMs: t2 - t1, totalMs: t2 - t0 };
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

// Ours, size: one Update frame per replica, each carrying one write of key 'v'
// with the replica's index as JSON text, HLC wall = now (the same for all: the
// writes are concurrent), logical 0, a random 53-bit replica id, seq 1 —
// exactly what a replica's kernel sends after state.write('v', i). Computed
// with the encoder in state-vs-yjs-wire.js, which follows PROTOCOL.md.
let b3Frames = null; // the last frames made in this page, for b3Send

function b3Make(replicas) {
  const wall = Date.now();
  const writers = [];
  const ids = new Set();
  while (writers.length < replicas) {
    const replicaId = randomReplicaId();
    if (ids.has(replicaId)) continue;
    ids.add(replicaId);
    writers.push({ key: 'v', value: JSON.stringify(writers.length), wall, logical: 0, replicaId, seq: 1 });
  }
  const t0 = performance.now();
  const frames = writers.map((w) => encodeUpdateFrame([w]));
  const t1 = performance.now();
  // The merge rule: greatest (wall, logical, replicaId) wins.
  let best = writers[0];
  for (const w of writers) if (w.replicaId > best.replicaId) best = w;
  b3Frames = { frames, winner: Number(best.value) };
  const sizes = frames.map((f) => f.length);
  return {
    replicas,
    bytes: sizes.reduce((s, x) => s + x, 0),
    minFrame: Math.min(...sizes),
    maxFrame: Math.max(...sizes),
    encodeMs: t1 - t0,
    winner: b3Frames.winner,
  };
}

// ---- two-tab parts: a started node in this tab ------------------------------------

let node = null;
let connectedAt = new Map(); // peerId -> clock()
let connectedWaiters = [];

async function startedNode(roomId, { start = true } = {}) {
  if (node) await node.stop();
  const n = await createNode({ roomId });
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

// B3, ours over a live channel (receiving tab): counts changes of 'v' and
// records when the end marker (an AppMessage sent after the last frame on the
// same ordered channel) arrives.
let b3Receiver = null;

function b3Arm(token) {
  const state = node.getStateManager();
  const r = { token, changes: 0, doneAt: null, wake: null };
  const offState = state.subscribe('v', () => r.changes++);
  const network = node.getNetworkManager();
  const offMsg = network.addMessageHandler((from, message) => {
    if (message && message.bench === 'b3-done' && message.token === token) {
      r.doneAt = clock();
      r.wake?.();
    }
  });
  r.off = () => {
    offState();
    offMsg();
  };
  b3Receiver = r;
  return true;
}

async function b3Wait(timeoutMs = 30000) {
  const r = b3Receiver;
  if (r.doneAt === null) await withTimeout(new Promise((resolve) => (r.wake = resolve)), timeoutMs, 'B3 end marker');
  r.off();
  b3Receiver = null;
  const peers = peerStats();
  return {
    doneAt: r.doneAt,
    changes: r.changes,
    value: node.getStateManager().read('v'),
    rejected: peers.reduce((s, p) => s + p.rejected, 0),
  };
}

// Sending tab: the frames made by b3Make(), each with sendRaw, then the marker.
function b3Send(peerId, token) {
  const network = node.getNetworkManager();
  const { frames } = b3Frames;
  const t0 = clock();
  for (const frame of frames) network.sendRaw(peerId, frame);
  network.sendToPeer(peerId, { bench: 'b3-done', token });
  const t1 = clock();
  return { t0, sendReturnedAt: t1, frames: frames.length };
}

// ---- 3. sync a 100,000-key state to a fresh replica ----------------------------

// Tab A: a started node in `room` holding n keys written with state.write().
async function syncSeed(room, n) {
  const id = await startedNode(room);
  const state = node.getStateManager();
  const keys = keysFor(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) state.write(keys[i], i);
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
  const t2 = performance.now();
  const updateV2 = Y.encodeStateAsUpdateV2(doc);
  const t3 = performance.now();
  const freshV2 = new Y.Doc();
  Y.applyUpdateV2(freshV2, updateV2);
  const t4 = performance.now();
  for (const d of [fresh, freshV2]) {
    const m = d.getMap('map');
    if (m.size !== n || m.get('k0') !== 0 || m.get(`k${n - 1}`) !== n - 1) throw new Error('sync yjs: the fresh doc is incomplete');
  }
  return {
    n,
    bytes: update.length,
    encodeMs: t1 - t0,
    applyMs: t2 - t1,
    totalMs: t2 - t0,
    bytesV2: updateV2.length,
    totalV2Ms: t4 - t2,
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
  const pending = [];
  let remoteSet = false;
  bc.onmessage = async ({ data }) => {
    if (!data || data.from === role) return;
    try {
      if (data.sdp) {
        await pc.setRemoteDescription(data.sdp);
        remoteSet = true;
        if (data.sdp.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          bc.postMessage({ from: role, sdp: pc.localDescription.toJSON() });
        }
        for (const c of pending.splice(0)) await pc.addIceCandidate(c);
      } else if (data.candidate) {
        if (remoteSet) await pc.addIceCandidate(data.candidate);
        else pending.push(data.candidate);
      }
    } catch (error) {
      entry.fail(error);
    }
  };
  pc.onicecandidate = (event) => {
    if (event.candidate) bc.postMessage({ from: role, candidate: event.candidate.toJSON() });
  };
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
  b3Make,
  b3Arm,
  b3Wait,
  b3Send,
  startedNode,
  waitConnected,
  stopNode,
  syncSeed,
  syncPrepare,
  syncRun,
  syncYjs,
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
