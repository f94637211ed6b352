// Page side of bench/compute-speedup.mjs. Everything is driven from the runner
// through page.evaluate(() => window.bench.<fn>(...)); nothing runs on load
// except importing the library.
//
// Times are performance.now() differences inside one tab (5 us resolution
// when the page is cross-origin isolated, as the runner makes it).
import { NodeKernel, VERSION } from '/dist/peercompute.js';
import { decodeTaskData, encodeTaskData } from '/dist/compute/task-data.js';
import { relayRawSignals } from './support/raw-signaling.js';

const statusEl = document.getElementById('status');
const setStatus = (text) => {
  if (statusEl) statusEl.textContent = text;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- library node -------------------------------------------------------------

let node = null;

async function createNode(roomId, computeWorkers = 1, unitsQueuedPerWorker = null) {
  if (node) await node.stop();
  const n = new NodeKernel({ roomId, enablePersistence: false, computeWorkers, unitsQueuedPerWorker });
  await n.initialize();
  await n.start();
  node = n;
  setStatus(`node ${n.nodeId} in room ${roomId}, ${computeWorkers} compute worker(s)`);
  return n.nodeId;
}

function connectedPeerIds() {
  return node ? node.getNetworkManager().getConnectedPeers().map((p) => p.peerId) : [];
}

function capabilities() {
  return node.getComputeManager().getCapabilities();
}

// Resolves once peerId is connected and has advertised at least one worker
// that runs `task`.
async function waitComputePeer(peerId, task = 'mandelbrot', timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const connected = connectedPeerIds().includes(peerId);
    const advert = capabilities().peers[peerId];
    if (connected && advert && advert.workers >= 1 && advert.tasks.includes(task)) return advert;
    if (performance.now() > deadline) {
      throw new Error(
        `peer ${peerId}: ${connected ? 'connected' : 'not connected'}, advertised ${JSON.stringify(advert ?? null)} after ${timeoutMs} ms`,
      );
    }
    await sleep(20);
  }
}

function pageInfo() {
  return {
    visibilityState: document.visibilityState,
    hasFocus: document.hasFocus(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
}

// ---- inputs and checks -------------------------------------------------------------

// The image split into tilesX x tilesY tiles, row-major.
function mandelbrotInputs({ x0, y0, w, h, width, height, tilesX, tilesY, maxIter }) {
  if (width % tilesX !== 0 || height % tilesY !== 0) throw new Error('the tiles must divide the image');
  const dx = w / width;
  const dy = h / height;
  const tw = width / tilesX;
  const th = height / tilesY;
  const inputs = [];
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      inputs.push({ x0: x0 + tx * tw * dx, y0: y0 + ty * th * dy, dx, dy, width: tw, height: th, maxIter });
    }
  }
  return inputs;
}

// SHA-256 of the tiles' bytes in order, and the sum of all escape counts.
async function digestTiles(tiles) {
  let total = 0;
  for (const t of tiles) {
    if (!(t instanceof Uint32Array)) throw new Error(`a tile is ${Object.prototype.toString.call(t)}, not a Uint32Array`);
    total += t.byteLength;
  }
  const all = new Uint8Array(total);
  let pos = 0;
  let sum = 0;
  for (const t of tiles) {
    all.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), pos);
    pos += t.byteLength;
    for (let i = 0; i < t.length; i++) sum += t[i];
  }
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return { hash: Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join(''), bytes: total, countSum: sum };
}

// ---- library jobs ---------------------------------------------------------------------

// Runs one job from this tab: wall time from just before submitJob() to the
// result, and when each unit was accepted and from which peer.
async function runJob(name, inputs, timeoutMs) {
  const compute = node.getComputeManager();
  const accepted = [];
  const t0 = performance.now();
  const job = compute.submitJob(name, inputs, { redundancy: 1 });
  job.on('progress', ({ index, peerId }) => accepted.push({ index, peer: peerId, t: performance.now() - t0 }));
  const outputs = await withTimeout(job.result, timeoutMs, `${name} job of ${inputs.length} units`);
  const ms = performance.now() - t0;
  const byPeer = {};
  for (const a of accepted) {
    const p = (byPeer[a.peer] ??= { units: 0, firstMs: a.t, lastMs: a.t });
    p.units++;
    p.lastMs = a.t;
  }
  return { ms, outputs, stats: job.stats, byPeer, accepted };
}

async function runMandelbrot(params, timeoutMs = 120_000) {
  const inputs = mandelbrotInputs(params);
  const r = await runJob('mandelbrot', inputs, timeoutMs);
  const digest = await digestTiles(r.outputs);
  return { ms: r.ms, units: inputs.length, self: node.nodeId, ...digest, stats: r.stats, byPeer: r.byPeer, accepted: r.accepted };
}

function primesInputs(units, to) {
  return Array.from({ length: units }, () => ({ from: 0, to }));
}
const PRIMES_BELOW = { 10: 4, 100: 25, 1000: 168 };

async function runTiny(units, to = 10, timeoutMs = 120_000) {
  const inputs = primesInputs(units, to);
  const r = await runJob('countPrimes', inputs, timeoutMs);
  const expected = PRIMES_BELOW[to];
  const wrong = expected === undefined ? 0 : r.outputs.filter((v) => v !== expected).length;
  if (wrong > 0) throw new Error(`countPrimes {from: 0, to: ${to}}: ${wrong} of ${units} outputs are not ${expected}`);
  return { ms: r.ms, units, self: node.nodeId, stats: r.stats, byPeer: r.byPeer };
}

// ---- raw Web Workers (references) ---------------------------------------------------
// echo: a plain module worker (Blob URL) that posts back what it gets: one
// unit a message ({run: exec, input} in, copied; {exec, ok, bytes} out with
// the bytes transferred), as an app would write it.
// task: the library's own worker script (dist/compute/task-worker.js), driven
// directly in its own protocol ({runs: [{exec, spec, input}]} in, {results}
// out), one unit a message as the echo: the unit runs exactly as in the
// library but without the kernel, the scheduler, the ComputeManager, or the
// batching of small units.

const ECHO_SOURCE = 'self.onmessage = ({ data }) => self.postMessage({ exec: data.run, ok: true, bytes: data.input }, [data.input.buffer]);\n';
const workers = { echo: [], task: [] };
let echoUrl = null;

function rawWorker(kind, i) {
  while (workers[kind].length <= i) {
    let w;
    if (kind === 'echo') {
      echoUrl ??= URL.createObjectURL(new Blob([ECHO_SOURCE], { type: 'text/javascript' }));
      w = new Worker(echoUrl, { type: 'module', name: `bench-echo-${workers.echo.length + 1}` });
    } else {
      w = new Worker('/dist/compute/task-worker.js', { type: 'module', name: `bench-task-${workers.task.length + 1}` });
    }
    w.onerror = (event) => console.error(`bench ${kind} worker failed: ${event.message}`);
    workers[kind].push(w);
  }
  return workers[kind][i];
}

// Runs the messages produced by next(i) (null when there are no more) on
// `count` workers of `kind`, keeping `inFlight` messages outstanding on each.
// Returns the wall time, every reply in message order, and (with inFlight 1)
// each message's own round trip.
function drive(kind, count, inFlight, total, next, timeoutMs, onReply = null) {
  const pool = Array.from({ length: count }, (_, i) => rawWorker(kind, i));
  const replies = new Array(total);
  const each = new Array(total);
  const sentAt = new Array(total);
  let sent = 0;
  let received = 0;
  return withTimeout(
    new Promise((resolve, reject) => {
      const send = (w) => {
        if (sent >= total) return;
        const exec = sent++;
        const msg = next(exec);
        sentAt[exec] = performance.now();
        w.postMessage(msg);
      };
      const t0 = performance.now();
      for (const w of pool) {
        w.onmessage = ({ data }) => {
          const at = performance.now();
          if (data.started !== undefined || data.loaded) return; // a unit with a CPU budget began; the script loaded
          for (const reply of data.results ?? [data]) {
            if (!reply.ok) {
              reject(new Error(`${kind} worker: ${reply.error}`));
              return;
            }
            replies[reply.exec] = reply.bytes;
            each[reply.exec] = at - sentAt[reply.exec];
            onReply?.(reply.bytes);
            received++;
            if (received === total) resolve({ ms: at - t0, replies, each });
            else send(w);
          }
        };
      }
      for (let k = 0; k < inFlight; k++) for (const w of pool) send(w);
    }),
    timeoutMs,
    `raw ${kind} workers`,
  ).finally(() => {
    for (const w of pool) w.onmessage = null;
  });
}

// n round trips to the echo worker, inFlight at a time, each carrying the
// task data of a tiny countPrimes input (as the library's units would).
async function rawEcho(n, inFlight = 2, timeoutMs = 60_000) {
  const template = encodeTaskData({ from: 0, to: 10 });
  const r = await drive('echo', 1, inFlight, n, (exec) => ({ run: exec, input: template.slice() }), timeoutMs);
  if (r.replies.some((b) => b.length !== template.length)) throw new Error('raw echo: a reply has the wrong size');
  return { ms: r.ms, units: n, inFlight, bytes: template.length };
}

// n tiny countPrimes units on the library's worker script, driven directly.
async function rawTiny(n, inFlight = 2, to = 10, timeoutMs = 60_000) {
  const spec = { kind: 'builtin', name: 'countPrimes' };
  const template = encodeTaskData({ from: 0, to });
  const r = await drive('task', 1, inFlight, n, (exec) => ({ runs: [{ exec, spec, input: template.slice() }] }), timeoutMs);
  const expected = PRIMES_BELOW[to];
  const wrong = r.replies.filter((b) => decodeTaskData(b) !== expected).length;
  if (wrong > 0) throw new Error(`raw countPrimes: ${wrong} of ${n} outputs are not ${expected}`);
  return { ms: r.ms, units: n, inFlight };
}

// The mandelbrot tiles on `count` copies of the library's worker script in
// this tab, one unit at a time on each, the next handed out as soon as one
// returns: the speed of the hardware with no library in between.
async function rawMandelbrot(params, count = 1, timeoutMs = 120_000) {
  const spec = { kind: 'builtin', name: 'mandelbrot' };
  const inputs = mandelbrotInputs(params).map((input) => encodeTaskData(input));
  const r = await drive('task', count, 1, inputs.length, (exec) => ({ runs: [{ exec, spec, input: inputs[exec] }] }), timeoutMs);
  const digest = await digestTiles(r.replies.map((b) => decodeTaskData(b)));
  return { ms: r.ms, units: inputs.length, workers: count, ...digest, unitMs: r.each };
}

// A raw RTCDataChannel between tabs A and B (signalled over a
// BroadcastChannel of its own, ordered and reliable like the library's), for
// the two-tab reference: B ships its tiles' results to A over it, as an app
// without the library would.
let results = null; // {pc, channel, bc, received: [], wake}

async function rawResultsChannel(name, role, timeoutMs = 15_000) {
  results?.pc.close();
  results?.bc.close();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const bc = new BroadcastChannel(name);
  const entry = { pc, bc, channel: null, received: [], wake: null };
  results = entry;
  const opened = new Promise((resolve, reject) => {
    relayRawSignals(bc, role, pc, reject);
    const attach = (channel) => {
      entry.channel = channel;
      channel.binaryType = 'arraybuffer';
      channel.onmessage = ({ data }) => {
        entry.received.push(new Uint8Array(data));
        entry.wake?.();
      };
      if (channel.readyState === 'open') resolve();
      else channel.onopen = () => resolve();
    };
    if (role === 'offer') attach(pc.createDataChannel('bench-results', { ordered: true }));
    else pc.ondatachannel = ({ channel }) => attach(channel);
  });
  entry.opened = withTimeout(opened, timeoutMs, `raw results channel (${role})`);
  entry.opened.catch(() => {});
  // The answering tab only listens: it must be listening before the offer
  // goes out, so the runner sets it up first and waits for it afterwards.
  if (role === 'answer') return true;
  await pc.setLocalDescription(await pc.createOffer());
  bc.postMessage({ from: role, sdp: pc.localDescription.toJSON() });
  await entry.opened;
  return true;
}

async function rawResultsWaitOpen() {
  await results.opened;
  return true;
}

// This tab's share of the tiles (every `parts`-th, from `part`) on one copy
// of the library's worker script; run in tabs A and B at once, the speed of
// two tabs with no library between them (the split is fixed). ship 'send'
// (tab B) sends each result over the raw channel as it comes; 'receive' (tab
// A) also waits for `expect` results from it, so the end is when A holds the
// whole image. Times are performance.timeOrigin + now(), comparable across
// the tabs.
async function rawMandelbrotShare(params, part, parts, ship = null, expect = 0, timeoutMs = 120_000) {
  const spec = { kind: 'builtin', name: 'mandelbrot' };
  const inputs = mandelbrotInputs(params)
    .map((input, index) => ({ input, index }))
    .filter(({ index }) => index % parts === part)
    .map(({ input }) => encodeTaskData(input));
  if (ship === 'receive') results.received = [];
  const startAt = performance.timeOrigin + performance.now();
  const r = await drive('task', 1, 1, inputs.length, (exec) => ({ runs: [{ exec, spec, input: inputs[exec] }] }), timeoutMs, (bytes) => {
    if (ship === 'send') results.channel.send(bytes);
  });
  if (ship === 'receive') {
    const all = new Promise((resolve) => {
      const check = () => results.received.length >= expect && resolve();
      results.wake = check;
      check();
    });
    await withTimeout(all, timeoutMs, `${expect} results over the raw channel`);
  }
  const endAt = performance.timeOrigin + performance.now();
  let countSum = 0;
  for (const bytes of [...r.replies, ...(ship === 'receive' ? results.received : [])]) for (const v of decodeTaskData(bytes)) countSum += v;
  return { startAt, endAt, units: inputs.length, countSum };
}

window.bench = {
  ready: true,
  version: VERSION,
  createNode,
  connectedPeerIds,
  capabilities,
  waitComputePeer,
  pageInfo,
  runMandelbrot,
  runTiny,
  rawEcho,
  rawTiny,
  rawMandelbrot,
  rawMandelbrotShare,
  rawResultsChannel,
  rawResultsWaitOpen,
};
setStatus(`ready (PeerCompute ${VERSION})`);
