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

async function createNode(roomId) {
  await stopNode();
  const n = new NodeKernel({ roomId });
  const seen = new Map();
  n.on('peer-connected', ({ peerId }) => {
    if (!seen.has(peerId)) seen.set(peerId, clock());
    for (const wake of connectedWaiters.splice(0)) wake();
  });
  await n.initialize();
  node = n;
  connected = seen;
  connectedWaiters = [];
  setStatus(`node ${n.nodeId} in room ${roomId}`);
  return n.nodeId;
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
  clockServe,
  clockMeasure,
  ready: true,
};
setStatus(`ready (peercompute ${VERSION})`);
