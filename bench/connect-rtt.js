// Page side of bench/run-benchmarks.mjs. Everything is driven from the runner
// through page.evaluate(() => window.bench.<fn>(...)); nothing runs on load
// except importing the library.
//
// Times that are compared across tabs use clock(): performance.timeOrigin +
// performance.now(), the same expression the library's kernel driver uses.
// Round-trip times use performance.now() inside one tab only.
import { NodeKernel, VERSION } from '/dist/peercompute.js';
import { relayRawSignals } from './support/raw-signaling.js';

const clock = () => performance.timeOrigin + performance.now();
const statusEl = document.getElementById('status');
const setStatus = (text) => {
  if (statusEl) statusEl.textContent = text;
};

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// One timer per measurement run instead of one per round trip, so the
// harness adds as little as possible to what it measures. It rejects the
// round trip in flight once nothing has arrived for timeoutMs.
// What one bulk transfer measured, from the receiver's completion reply.
function bulkResult(reply, t0, sentAt, waits) {
  const { bytes, chunks, outOfOrder, receiveMs } = reply;
  return { ms: reply.at - t0, submitMs: sentAt - t0, bytes, chunks, outOfOrder, receiveMs, waits };
}

function watchdog(timeoutMs, describe) {
  let last = performance.now();
  let current = null;
  let timer = null;
  const check = () => {
    const idle = performance.now() - last;
    if (idle < timeoutMs) {
      timer = setTimeout(check, timeoutMs - idle);
      return;
    }
    timer = null;
    const p = current;
    current = null;
    p?.reject(new Error(`${describe()}: no answer within ${timeoutMs} ms`));
  };
  timer = setTimeout(check, timeoutMs);
  return {
    // Resolves with the receive time of the reply; rejects on timeout.
    expect(seq) {
      return new Promise((resolve, reject) => {
        current = { seq, resolve, reject };
      });
    },
    deliver(seq, at) {
      if (!current || current.seq !== seq) return;
      const p = current;
      current = null;
      last = at;
      p.resolve(at);
    },
    get waiting() {
      return current !== null;
    },
    stop() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      current = null;
    },
  };
}

// ---- library node -----------------------------------------------------------

let node = null;
let connected = new Map(); // peerId -> clock() at 'peer-connected'
let connectedWaiters = [];

let peerEvents = []; // every 'peer-connected' / 'peer-disconnected' of the current node, in order

// options: extra node config, such as {peerServer: {...}} to meet through a
// PeerJS signaling server instead of (in separate browser contexts) the
// BroadcastChannel.
async function createNode(roomId, options = {}) {
  await stopNode();
  const n = new NodeKernel({ roomId, ...options });
  const seen = new Map();
  const events = [];
  n.on('peer-connected', ({ peerId }) => {
    const at = clock();
    if (!seen.has(peerId)) seen.set(peerId, at);
    events.push({ type: 'peer-connected', peerId, at });
    for (const wake of connectedWaiters.splice(0)) wake();
  });
  n.on('peer-disconnected', ({ peerId, reason }) => {
    events.push({ type: 'peer-disconnected', peerId, reason: reason ?? null, at: clock() });
  });
  await n.initialize();
  node = n;
  connected = seen;
  connectedWaiters = [];
  peerEvents = events;
  setStatus(`node ${n.nodeId} in room ${roomId}${options.peerServer ? ` via ${options.peerServer.host}:${options.peerServer.port}` : ''}`);
  return n.nodeId;
}

function nodeEvents() {
  return peerEvents;
}

// What the soak test samples: this node's view of its peers (the kernel's
// ping RTT and byte counters) and of the signaling server.
function peerSnapshot() {
  if (!node) return null;
  const status = node.getStatus();
  return {
    at: clock(),
    isStarted: status.isStarted,
    signalingServer: status.network.signalingServer?.state ?? null,
    bytesIn: status.network.bytesIn ?? null,
    bytesOut: status.network.bytesOut ?? null,
    peers: node.getNetworkManager().getPeers().map((p) => ({
      peerId: p.peerId,
      state: p.state,
      rttMs: p.rttMs,
      bytesIn: p.bytesIn,
      bytesOut: p.bytesOut,
      framesIn: p.framesIn,
      framesOut: p.framesOut,
      messagesIn: p.messagesIn,
      messagesOut: p.messagesOut,
      lastHeardAt: p.lastHeardAt,
    })),
  };
}

// t0 is taken immediately before start(); the runner compares it with the
// 'peer-connected' times of both tabs.
async function startNode() {
  const t0 = clock();
  await node.start();
  return { t0, startReturnedAt: clock() };
}

// Resolves with the clock() time at which 'peer-connected' fired for peerId.
async function waitConnected(peerId, timeoutMs = 15000) {
  const found = () => connected.get(peerId);
  const wait = (async () => {
    while (found() === undefined) await new Promise((resolve) => connectedWaiters.push(resolve));
    return found();
  })();
  return withTimeout(wait, timeoutMs, `peer-connected for ${peerId}`);
}

async function stopNode() {
  if (!node) return;
  const n = node;
  node = null;
  await n.stop();
}

function connectedPeerIds() {
  return node ? node.getNetworkManager().getConnectedPeers().map((p) => p.peerId) : [];
}

// The answering side of the application ping-pong: every 'ping' comes back as
// a 'pong' of the same size, sent with sendToPeer from inside the handler.
let responderOff = null;
function installResponder() {
  responderOff?.();
  const network = node.getNetworkManager();
  responderOff = network.addMessageHandler((peerId, message) => {
    if (message && message.bench === 'ping') network.sendToPeer(peerId, { bench: 'pong', seq: message.seq, pad: message.pad });
  });
}

// N sequential round trips through the library. Each sample runs from just
// before sendToPeer() to the moment the reply reaches this tab's handler.
async function libraryRoundTrips(peerId, n, warmup, pad, timeoutMs = 5000) {
  const network = node.getNetworkManager();
  let i = 0;
  const dog = watchdog(timeoutMs, () => `library round trip #${i}`);
  const off = network.addMessageHandler((from, message) => {
    const at = performance.now();
    if (from === peerId && message && message.bench === 'pong') dog.deliver(message.seq, at);
  });
  const samples = [];
  try {
    for (; i < warmup + n; i++) {
      const reply = dog.expect(i);
      const sentAt = performance.now();
      network.sendToPeer(peerId, { bench: 'ping', seq: i, pad });
      const receivedAt = await reply;
      if (i >= warmup) samples.push(receivedAt - sentAt);
    }
  } finally {
    off();
    dog.stop();
  }
  return samples;
}

// The JSON text the library carries for one ping, so the raw test can send a
// payload of exactly the same size.
function pingText(seq, pad) {
  return JSON.stringify({ bench: 'ping', seq, pad });
}

// ---- raw RTCDataChannel pair ------------------------------------------------
// Signalled over a BroadcastChannel of its own (unique name per pair), one
// ordered data channel like the library's, no ICE servers like the library's
// default. The answering tab echoes every message back unchanged.

let raw = null; // { pc, channel, signals, openAt, opened }

function rawSignals(name, role, pc, entry) {
  const bc = new BroadcastChannel(name);
  relayRawSignals(bc, role, pc, (error) => entry.fail(error));
  return bc;
}

function rawEntry(name, role) {
  rawClose();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const entry = { pc, channel: null, signals: null, openAt: null };
  entry.opened = new Promise((resolve, reject) => {
    entry.resolveOpen = resolve;
    entry.fail = reject;
  });
  entry.opened.catch(() => {});
  entry.signals = rawSignals(name, role, pc, entry);
  raw = entry;
  return entry;
}

function rawAttach(entry, channel, echo) {
  entry.channel = channel;
  channel.binaryType = 'arraybuffer';
  channel.onopen = () => {
    entry.openAt = clock();
    entry.resolveOpen(entry.openAt);
  };
  if (echo) channel.onmessage = (event) => channel.send(event.data);
}

// Answering tab: listen first, then the runner asks the other tab to offer.
function rawListen(name) {
  const entry = rawEntry(name, 'answer');
  entry.pc.ondatachannel = (event) => rawAttach(entry, event.channel, true);
  return true;
}

// Offering tab: t0 is taken before the RTCPeerConnection is created.
async function rawOffer(name, timeoutMs = 15000) {
  const t0 = clock();
  const entry = rawEntry(name, 'offer');
  rawAttach(entry, entry.pc.createDataChannel('bench-raw', { ordered: true }), false);
  await entry.pc.setLocalDescription(await entry.pc.createOffer());
  entry.signals.postMessage({ from: 'offer', sdp: entry.pc.localDescription.toJSON() });
  const openAt = await withTimeout(entry.opened, timeoutMs, 'raw data channel open (offering tab)');
  return { t0, openAt };
}

async function rawWaitOpen(timeoutMs = 15000) {
  if (!raw) throw new Error('rawWaitOpen(): call rawListen() first');
  return withTimeout(raw.opened, timeoutMs, 'raw data channel open (answering tab)');
}

// N sequential round trips over the raw channel with the same JSON text the
// library would carry; the reply is parsed and its seq checked, as an
// application would. binary: send the text as UTF-8 bytes (a Uint8Array, as
// the library does on its channel) instead of as a string.
async function rawRoundTrips(n, warmup, pad, binary = false, timeoutMs = 5000) {
  const { channel } = raw ?? {};
  if (!channel || channel.readyState !== 'open') throw new Error('rawRoundTrips(): the raw channel is not open');
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let i = 0;
  const dog = watchdog(timeoutMs, () => `raw round trip #${i}`);
  channel.onmessage = (event) => {
    const at = performance.now();
    if (!dog.waiting) return;
    const text = typeof event.data === 'string' ? event.data : decoder.decode(event.data);
    dog.deliver(JSON.parse(text).seq, at);
  };
  const samples = [];
  try {
    for (; i < warmup + n; i++) {
      const reply = dog.expect(i);
      const sentAt = performance.now();
      channel.send(binary ? encoder.encode(pingText(i, pad)) : pingText(i, pad));
      const receivedAt = await reply;
      if (i >= warmup) samples.push(receivedAt - sentAt);
    }
  } finally {
    channel.onmessage = null;
    dog.stop();
  }
  return samples;
}

// ---- bulk throughput ---------------------------------------------------------
// The sender sends totalBytes as chunkSize-byte binary messages, each starting
// with its sequence number (uint32, big-endian), and takes the time from just
// before the first send to the arrival of the receiver's completion message,
// which the receiver sends once it has counted every byte (and checked that
// the chunks came in order). The same chunk buffer is reused: both
// sendToPeer() and RTCDataChannel.send() copy what they are given.

function makeChunk(chunkSize) {
  const chunk = new Uint8Array(chunkSize);
  for (let i = 0; i < chunkSize; i++) chunk[i] = (i * 31 + 7) & 0xff;
  return chunk;
}

// Counts one transfer's chunks; onComplete(summary) once totalBytes arrived.
function bulkCounter(totalBytes, onComplete) {
  let bytes = 0;
  let chunks = 0;
  let outOfOrder = 0;
  let firstAt = null;
  let done = false;
  return (data) => {
    if (done) return;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (firstAt === null) firstAt = performance.now();
    if (data.byteLength < 4 || view.getUint32(0) !== chunks) outOfOrder++;
    chunks++;
    bytes += data.byteLength;
    if (bytes >= totalBytes) {
      done = true;
      onComplete({ bytes, chunks, outOfOrder, receiveMs: performance.now() - firstAt });
    }
  };
}

let bulkReceiverOff = null;

// Receiving tab, library: count the binary messages of transfer `id` from
// peerId; when all have arrived, answer with a JSON completion message.
function libraryBulkExpect(peerId, id, totalBytes) {
  bulkReceiverOff?.();
  const network = node.getNetworkManager();
  const count = bulkCounter(totalBytes, (summary) => {
    bulkReceiverOff?.();
    bulkReceiverOff = null;
    network.sendToPeer(peerId, { bench: 'bulk-done', id, ...summary });
  });
  bulkReceiverOff = network.addMessageHandler((from, message) => {
    if (from === peerId && message instanceof Uint8Array) count(message);
  });
  return true;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Sending tab, library. sendToPeer() hands each message to the library at
// once; the library keeps at most 1 MB in the data channel's buffer and
// queues the rest (refilling on 'bufferedamountlow' at 256 KB). Its queue is
// bounded (64 MB), so the application holds back while queuedBytes() is above
// maxQueued, checking again every few milliseconds (setTimeout).
async function libraryBulkSend(peerId, id, totalBytes, chunkSize, maxQueued, timeoutMs = 120000) {
  const network = node.getNetworkManager();
  const chunk = makeChunk(chunkSize);
  const view = new DataView(chunk.buffer);
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const off = network.addMessageHandler((from, message) => {
    if (from === peerId && message?.bench === 'bulk-done' && message.id === id) resolveDone({ at: performance.now(), ...message });
  });
  let waits = 0;
  let maxSeen = 0;
  try {
    const t0 = performance.now();
    let sent = 0;
    for (let seq = 0; sent < totalBytes; ) {
      const queued = network.queuedBytes(peerId);
      if (queued > maxSeen) maxSeen = queued;
      if (queued > maxQueued) {
        waits++;
        await sleep(0);
        continue;
      }
      const n = Math.min(chunkSize, totalBytes - sent);
      view.setUint32(0, seq++);
      network.sendToPeer(peerId, n === chunkSize ? chunk : chunk.subarray(0, n));
      sent += n;
    }
    const sentAt = performance.now();
    const reply = await withTimeout(done, timeoutMs, `library bulk transfer ${id}`);
    return { ...bulkResult(reply, t0, sentAt, waits), maxQueued: maxSeen };
  } finally {
    off();
  }
}

// Receiving tab, raw: count the chunks on the raw channel, then send a text
// completion message back on it.
function rawBulkExpect(id, totalBytes) {
  const { channel } = raw ?? {};
  if (!channel || channel.readyState !== 'open') throw new Error('rawBulkExpect(): the raw channel is not open');
  const count = bulkCounter(totalBytes, (summary) => {
    channel.onmessage = null;
    channel.send(JSON.stringify({ bench: 'bulk-done', id, ...summary }));
  });
  channel.onmessage = (event) => {
    if (typeof event.data !== 'string') count(new Uint8Array(event.data));
  };
  return true;
}

// Sending tab, raw: the usual backpressure of a data channel, with the
// library's numbers: send while bufferedAmount stays within highWater, else
// wait for 'bufferedamountlow' (threshold lowWater).
async function rawBulkSend(id, totalBytes, chunkSize, highWater, lowWater, timeoutMs = 120000) {
  const { channel } = raw ?? {};
  if (!channel || channel.readyState !== 'open') throw new Error('rawBulkSend(): the raw channel is not open');
  const chunk = makeChunk(chunkSize);
  const view = new DataView(chunk.buffer);
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  channel.onmessage = (event) => {
    if (typeof event.data !== 'string') return;
    const message = JSON.parse(event.data);
    if (message.bench === 'bulk-done' && message.id === id) resolveDone({ at: performance.now(), ...message });
  };
  channel.bufferedAmountLowThreshold = lowWater;
  let waits = 0;
  try {
    const t0 = performance.now();
    let sent = 0;
    for (let seq = 0; sent < totalBytes; ) {
      const n = Math.min(chunkSize, totalBytes - sent);
      if (channel.bufferedAmount + n > highWater) {
        waits++;
        await new Promise((resolve) => channel.addEventListener('bufferedamountlow', resolve, { once: true }));
        continue;
      }
      view.setUint32(0, seq++);
      channel.send(n === chunkSize ? chunk : chunk.subarray(0, n));
      sent += n;
    }
    const sentAt = performance.now();
    const reply = await withTimeout(done, timeoutMs, `raw bulk transfer ${id}`);
    return bulkResult(reply, t0, sentAt, waits);
  } finally {
    channel.onmessage = null;
  }
}

function rawClose() {
  if (!raw) return;
  raw.signals?.close();
  raw.channel?.close();
  raw.pc.close();
  raw = null;
}

// ---- cross-tab clock check --------------------------------------------------
// NTP-style: this tab stamps a request, the other tab answers with its clock(),
// and the offset is taken from the exchange with the smallest round trip.

let clockServer = null;
function clockServe(name) {
  clockServer?.close();
  clockServer = new BroadcastChannel(name);
  clockServer.onmessage = ({ data }) => {
    if (data?.kind === 'req') clockServer.postMessage({ kind: 'res', id: data.id, t: clock() });
  };
  return true;
}

async function clockMeasure(name, samples = 20) {
  const bc = new BroadcastChannel(name);
  try {
    let best = null;
    for (let id = 0; id < samples; id++) {
      const t1 = clock();
      const reply = new Promise((resolve) => {
        bc.onmessage = ({ data }) => {
          if (data?.kind === 'res' && data.id === id) resolve(data.t);
        };
      });
      bc.postMessage({ kind: 'req', id });
      const remote = await withTimeout(reply, 2000, 'clock probe');
      const t2 = clock();
      const rtt = t2 - t1;
      // remote clock minus this tab's clock
      if (!best || rtt < best.rtt) best = { rtt, offset: remote - (t1 + t2) / 2 };
    }
    return best;
  } finally {
    bc.close();
  }
}

// What one send costs the sending tab's main thread, library against raw:
// n sends of the ping text in a row (the peer's responder ignores them:
// they are not pings), timed in one stretch, both ways alternating in
// blocks. A diagnostic for the round trip, not a target.
async function sendCost(peerId, n, pad, rounds = 5) {
  const network = node.getNetworkManager();
  const { channel } = raw ?? {};
  if (!channel || channel.readyState !== 'open') throw new Error('sendCost(): the raw channel is not open');
  const waitDrained = async () => {
    while (channel.bufferedAmount > 0 || network.queuedBytes(peerId) > 0) await new Promise((r) => setTimeout(r, 5));
  };
  const lib = [];
  const rawUs = [];
  const rawBytesUs = [];
  const encoder = new TextEncoder();
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? ['library', 'raw', 'rawBytes'] : ['rawBytes', 'raw', 'library']) {
      await waitDrained();
      await new Promise((resolve) => setTimeout(resolve, 20));
      // The raw peer echoes everything back: count the echoes, so none is
      // still on its way when the block ends.
      let echoed = 0;
      channel.onmessage = () => echoed++;
      const t0 = performance.now();
      if (kind === 'library') for (let i = 0; i < n; i++) network.sendToPeer(peerId, { bench: 'cost', seq: i, pad });
      else if (kind === 'raw') for (let i = 0; i < n; i++) channel.send(JSON.stringify({ bench: 'cost', seq: i, pad }));
      else for (let i = 0; i < n; i++) channel.send(encoder.encode(JSON.stringify({ bench: 'cost', seq: i, pad })));
      const us = ((performance.now() - t0) * 1000) / n;
      (kind === 'library' ? lib : kind === 'raw' ? rawUs : rawBytesUs).push(us);
      if (kind !== 'library') await withTimeout((async () => { while (echoed < n) await new Promise((r) => setTimeout(r, 5)); })(), 10_000, 'raw echoes');
      channel.onmessage = null;
    }
  }
  await waitDrained();
  return { library: lib, raw: rawUs, rawBytes: rawBytesUs };
}

window.bench = {
  version: VERSION,
  clock,
  createNode,
  startNode,
  waitConnected,
  stopNode,
  connectedPeerIds,
  installResponder,
  libraryRoundTrips,
  pingText,
  rawListen,
  rawOffer,
  rawWaitOpen,
  rawRoundTrips,
  rawClose,
  sendCost,
  nodeEvents,
  peerSnapshot,
  libraryBulkExpect,
  libraryBulkSend,
  rawBulkExpect,
  rawBulkSend,
  clockServe,
  clockMeasure,
  ready: true,
};
setStatus(`ready (peercompute ${VERSION})`);
