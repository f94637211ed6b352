// PeerCompute distributed-compute demo: a Mandelbrot image rendered in tiles
// by every tab open in the room.
//
// The node starts on load, so every tab that opens this page (same ?room=,
// default 'compute-demo') is a worker. Render splits the canvas into tiles,
// submits one unit of the built-in 'mandelbrot' task per tile, and draws each
// tile as soon as its progress event arrives, tinted by the tab that computed
// it. Tests drive the page through #renderBtn/#cancelBtn, #progress,
// #progressText, #elapsed, #peerTable, #tintToggle, #error, window.node and
// window.computeDemo = {render(options), lastImageHash(), ready()}.

import { NodeKernel, VERSION } from '/dist/peercompute.js';
import { loadPeerServer, PEER_CONFIG_URL } from './signaling-config.js';

const REFRESH_MS = 500;
const ELAPSED_TICK_MS = 100;
const DEFAULT_ROOM = 'compute-demo';

// The part of the complex plane the canvas shows: the whole set, 4:3.
const VIEW = { x0: -2.5, y0: -1.3125, width: 3.5, height: 2.625 };
const TINT_ALPHA = 0.38; // how much of the peer colour a tinted pixel takes
const RENDER_OPTIONS = ['tiles', 'maxIter', 'redundancy'];
const MAX_ITER_LIMIT = 1_000_000;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- helpers

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Everything that reaches innerHTML goes through here: peer ids come from
// other tabs and are untrusted.
function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function errorText(err) {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

function isAbort(err) {
  return err?.name === 'AbortError';
}

function seconds(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function fixed(n, digits) {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

function shortId(id) {
  const s = String(id);
  return s.length > 12 ? `${s.slice(0, 3)}…${s.slice(-6)}` : s;
}

// Only touch the DOM when the markup actually changed, so hover states and
// text selection survive the 500 ms refresh.
const lastHtml = new WeakMap();
function setHtml(el, html) {
  if (lastHtml.get(el) === html) return;
  lastHtml.set(el, html);
  el.innerHTML = html;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

// FNV-1a over a string's UTF-16 code units: the peer colour's seed.
function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// FNV-1a over every escape count, tile after tile, each as 4 little-endian
// bytes: equal hashes mean the same raw image, whoever computed it.
function hashCounts(outputs) {
  let h = 0x811c9dc5;
  for (const counts of outputs) {
    for (let k = 0; k < counts.length; k++) {
      let v = counts[k];
      for (let b = 0; b < 4; b++) {
        h ^= v & 0xff;
        h = Math.imul(h, 0x01000193);
        v >>>= 8;
      }
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------- colours

// A peer's colour, derived from its id alone so every tab agrees on it.
function peerHue(id) {
  return hashString(String(id)) % 360;
}

function peerCss(id) {
  return `hsl(${peerHue(id)} 80% 55%)`;
}

function hslToRgb(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

const peerRgbCache = new Map();
function peerRgb(id) {
  let rgb = peerRgbCache.get(id);
  if (!rgb) {
    rgb = hslToRgb(peerHue(id), 0.8, 0.55);
    peerRgbCache.set(id, rgb);
  }
  return rgb;
}

// A smooth gradient (deep blue → white → orange → near black), walked on a
// log scale of the escape count; inside the set is black.
const GRADIENT = [
  [0, [0, 7, 100]],
  [0.16, [32, 107, 203]],
  [0.42, [237, 255, 255]],
  [0.6425, [255, 170, 0]],
  [0.8575, [20, 2, 30]],
];

function gradientAt(t) {
  for (let i = 1; i < GRADIENT.length; i++) {
    const [p1, c1] = GRADIENT[i];
    if (t <= p1) {
      const [p0, c0] = GRADIENT[i - 1];
      const u = (t - p0) / (p1 - p0);
      return [0, 1, 2].map((c) => Math.round(c0[c] + (c1[c] - c0[c]) * u));
    }
  }
  return GRADIENT[GRADIENT.length - 1][1];
}

// One RGB triple per escape count 0..maxIter, made once per render.
function makePalette(maxIter) {
  const lut = new Uint8Array((maxIter + 1) * 3);
  const scale = Math.log(maxIter + 1);
  for (let n = 0; n < maxIter; n++) {
    const [r, g, b] = gradientAt((Math.log(n + 1) / scale) * 0.8575);
    lut[n * 3] = r;
    lut[n * 3 + 1] = g;
    lut[n * 3 + 2] = b;
  }
  // n === maxIter: inside the set, black (lut is zero-filled).
  return lut;
}

// ---------------------------------------------------------------- room + node

const params = new URLSearchParams(location.search);
const roomId = (params.get('room') || '').trim() || DEFAULT_ROOM;

$('version').textContent = VERSION ?? '?';
$('roomName').textContent = roomId;
$('newTabLink').href = (() => {
  const url = new URL(location.pathname, location.href);
  url.searchParams.set('room', roomId);
  return url.href;
})();
document.title = `PeerCompute · Mandelbrot · ${roomId}`;

let node = null;
let compute = null; // the ComputeManager, once the node is initialized
let phase = 'starting'; // 'starting' | 'running' | 'failed'
let bootError = null;
let peerServer = null;
let signalingNote = `waiting for ${PEER_CONFIG_URL}`;


async function bootNode() {
  const { server, reason } = await loadPeerServer();
  const base = { roomId, enablePersistence: false };
  if (server) {
    try {
      node = new NodeKernel({ ...base, peerServer: server });
      peerServer = server;
    } catch (err) {
      signalingNote = `the node refused the server in ${PEER_CONFIG_URL}: ${errorText(err)}`;
    }
  } else {
    signalingNote = reason;
  }
  node ??= new NodeKernel(base);
  window.node = node;
  node.on('peer-connected', () => refreshAll());
  node.on('peer-disconnected', () => refreshAll());
  await node.initialize();
  compute = node.getComputeManager();
  await node.start();
}

// Resolves once this tab is a running worker; rejects if it never will be.
const ready = bootNode().then(
  () => {
    phase = 'running';
    $('renderBtn').disabled = false;
    refreshAll();
  },
  (err) => {
    phase = 'failed';
    bootError = errorText(err);
    showError(`The node could not start: ${bootError}`);
    console.error(err);
    refreshAll();
    throw err;
  },
);
ready.catch(() => {}); // reported above; render() rethrows it to its caller

// Tells the inline watchdog in compute.html that the module (and library) loaded.
window.__computeDemoReady = true;

// ---------------------------------------------------------------- error banner

function showError(text) {
  $('errorText').textContent = text; // textContent: errors may quote peer data
  $('error').hidden = false;
  console.error(`[compute-demo] ${text}`);
}

function clearError() {
  $('error').hidden = true;
  $('errorText').textContent = '';
}

$('errorClose').addEventListener('click', clearError);

// ---------------------------------------------------------------- canvas

const canvas = $('canvas');
const ctx = canvas.getContext('2d');

// The current (or last) render: its geometry, the tiles drawn so far and who
// computed them.
let run = null;
let lastHash = null;

function tileRect(r, index) {
  const tx = index % r.side;
  const ty = Math.floor(index / r.side);
  return { x: tx * r.tileW, y: ty * r.tileH };
}

function drawPending(r) {
  const css = getComputedStyle(document.documentElement);
  ctx.fillStyle = css.getPropertyValue('--surface-2').trim() || '#f0f3f8';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = css.getPropertyValue('--border').trim() || '#dde3ec';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 1; i < r.side; i++) {
    ctx.moveTo(i * r.tileW + 0.5, 0);
    ctx.lineTo(i * r.tileW + 0.5, canvas.height);
    ctx.moveTo(0, i * r.tileH + 0.5);
    ctx.lineTo(canvas.width, i * r.tileH + 0.5);
  }
  ctx.stroke();
}

function drawTile(r, index) {
  const counts = r.counts[index];
  if (!counts) return;
  const { tileW, tileH, palette } = r;
  const image = ctx.createImageData(tileW, tileH);
  const px = image.data;
  const tint = $('tintToggle').checked ? peerRgb(r.owners[index]) : null;
  const keep = 1 - TINT_ALPHA;
  for (let j = 0; j < tileH; j++) {
    for (let i = 0; i < tileW; i++) {
      const k = j * tileW + i;
      const n = Math.min(counts[k], r.maxIter) * 3;
      let red = palette[n];
      let green = palette[n + 1];
      let blue = palette[n + 2];
      if (tint) {
        red = red * keep + tint[0] * TINT_ALPHA;
        green = green * keep + tint[1] * TINT_ALPHA;
        blue = blue * keep + tint[2] * TINT_ALPHA;
        // A darker seam on the right and bottom edges outlines each tile.
        if (i === tileW - 1 || j === tileH - 1) {
          red *= 0.6;
          green *= 0.6;
          blue *= 0.6;
        }
      }
      const o = k * 4;
      px[o] = red;
      px[o + 1] = green;
      px[o + 2] = blue;
      px[o + 3] = 255;
    }
  }
  const { x, y } = tileRect(r, index);
  ctx.putImageData(image, x, y);
}

function redrawAll() {
  if (!run) return;
  drawPending(run);
  for (let i = 0; i < run.total; i++) drawTile(run, i);
}

$('tintToggle').addEventListener('change', redrawAll);

// ---------------------------------------------------------------- render

function readForm() {
  return {
    tiles: Number($('tilesSelect').value),
    maxIter: Number($('maxIterSelect').value),
    redundancy: Number($('redundancySelect').value),
  };
}

// Shows the options a render uses in the form (where the form offers them).
function syncForm(opts) {
  for (const [id, value] of [['tilesSelect', opts.tiles], ['maxIterSelect', opts.maxIter], ['redundancySelect', opts.redundancy]]) {
    const select = $(id);
    if ([...select.options].some((o) => Number(o.value) === value)) select.value = String(value);
  }
}

function renderOptions(options) {
  const where = 'computeDemo.render(options)';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${where}: options must be an object such as {tiles: 64, maxIter: 2000}`);
  for (const key of Object.keys(options)) {
    if (!RENDER_OPTIONS.includes(key)) throw new TypeError(`${where}: unknown option '${key}'; the options are ${RENDER_OPTIONS.join(', ')}`);
  }
  const opts = { ...readForm(), ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const side = Math.round(Math.sqrt(opts.tiles));
  if (!Number.isInteger(opts.tiles) || side * side !== opts.tiles || canvas.width % side || canvas.height % side) {
    throw new TypeError(`${where}: tiles must be a square number whose side divides ${canvas.width} and ${canvas.height}, such as 16, 64 or 256`);
  }
  if (!Number.isInteger(opts.maxIter) || opts.maxIter < 1 || opts.maxIter > MAX_ITER_LIMIT) {
    throw new TypeError(`${where}: maxIter must be an integer in 1..${MAX_ITER_LIMIT}`);
  }
  if (!Number.isInteger(opts.redundancy) || opts.redundancy < 1 || opts.redundancy > 16) {
    throw new TypeError(`${where}: redundancy must be an integer in 1..16`);
  }
  return { ...opts, side };
}

// One unit of the built-in 'mandelbrot' task per tile, in row-major tile order.
function tileInputs(r) {
  const dx = VIEW.width / canvas.width;
  const dy = VIEW.height / canvas.height;
  const inputs = [];
  for (let index = 0; index < r.total; index++) {
    const { x, y } = tileRect(r, index);
    inputs.push({ x0: VIEW.x0 + x * dx, y0: VIEW.y0 + y * dy, dx, dy, width: r.tileW, height: r.tileH, maxIter: r.maxIter });
  }
  return inputs;
}

function elapsedMs(r) {
  if (!r) return NaN;
  return (r.endedAt ?? performance.now()) - r.startedAt;
}

let elapsedTimer = null;

// The button and window.computeDemo.render() both come here. Resolves to
// {outputs, stats, ms, tileOwners}; rejects (and shows why) if the render
// cannot start or fails, or with an AbortError when cancelled.
async function render(options = {}) {
  try {
    await ready;
  } catch (err) {
    throw new Error(`the node is not running: ${bootError ?? errorText(err)}`);
  }
  let r;
  try {
    if (run?.state === 'running') throw new Error('a render is already running; cancel it first');
    const opts = renderOptions(options);
    syncForm(opts);
    clearError();
    r = {
      state: 'running',
      total: opts.tiles,
      side: opts.side,
      tileW: canvas.width / opts.side,
      tileH: canvas.height / opts.side,
      maxIter: opts.maxIter,
      redundancy: opts.redundancy,
      palette: makePalette(opts.maxIter),
      counts: new Array(opts.tiles),
      owners: new Array(opts.tiles).fill(null),
      done: 0,
      byPeer: {},
      selfUnitsAt: null, // when this tab last finished a unit of this render
      startedAt: performance.now(),
      endedAt: null,
      stats: null,
      job: null,
      error: null,
    };
    // The job must exist before `run` points at it: a synchronous throw
    // from submitJob leaves the previous render's table and image in place.
    r.job = compute.submitJob('mandelbrot', tileInputs(r), { redundancy: opts.redundancy });
  } catch (err) {
    showError(`Render failed to start: ${errorText(err)}`);
    throw err;
  }

  run = r;
  drawPending(r); // lastHash stays the last *completed* render's until this one completes
  r.job.on('progress', (e) => onProgress(r, e));
  r.job.on('error', (err) => {
    r.error ??= err;
  });
  setRunningUi(true);
  refreshAll();

  try {
    const outputs = await r.job.result;
    if (r.error) throw r.error; // a tile this page refused, in a job that finished anyway
    r.endedAt = performance.now();
    r.state = 'done';
    r.stats = r.job.stats;
    lastHash = hashCounts(outputs);
    const ms = r.endedAt - r.startedAt;
    const peers = Object.keys(r.byPeer).length;
    setText($('summary'), `${r.total} tiles in ${seconds(ms)} by ${peers} tab${peers === 1 ? '' : 's'} · ${r.stats.retries} retries · ${r.stats.rejectedResults} rejected results · hash ${lastHash}`);
    return { outputs, stats: r.stats, ms, tileOwners: r.owners.slice() };
  } catch (err) {
    r.endedAt ??= performance.now();
    r.stats = r.job.stats;
    // A tile this page refused cancels the job: report the refusal, not the cancel.
    const failure = r.error ?? err;
    if (isAbort(failure)) {
      r.state = 'cancelled';
      setText($('summary'), `Cancelled after ${r.done} of ${r.total} tiles.`);
    } else {
      r.state = 'failed';
      setText($('summary'), `Failed after ${r.done} of ${r.total} tiles.`);
      showError(`Render failed: ${errorText(failure)}`);
    }
    throw failure;
  } finally {
    setRunningUi(false);
    refreshAll();
  }
}

function onProgress(r, e) {
  if (r.state !== 'running') return;
  const { index, peerId, output } = e;
  // Peers are untrusted: a result of the wrong shape stops the render rather
  // than drawing garbage.
  if (!Number.isInteger(index) || index < 0 || index >= r.total) return;
  if (!(output instanceof Uint32Array) || output.length !== r.tileW * r.tileH) {
    r.error ??= new Error(`tile ${index} from ${peerId}: expected ${r.tileW * r.tileH} escape counts, got ${output?.constructor?.name ?? typeof output}${output?.length === undefined ? '' : ` of ${output.length}`}`);
    setTimeout(() => r.job.cancel(), 0); // not from inside the job's own event
    return;
  }
  r.counts[index] = output;
  r.owners[index] = String(peerId);
  r.done = e.done;
  r.byPeer = e.byPeer ?? r.byPeer;
  if (Array.isArray(e.peers) && e.peers.includes(node.nodeId)) r.selfUnitsAt = performance.now();
  drawTile(r, index);
  renderProgress();
  renderPeers();
  renderLegend();
}

function setRunningUi(running) {
  $('renderBtn').disabled = running || phase !== 'running';
  $('cancelBtn').disabled = !running;
  document.body.classList.toggle('rendering', running);
  clearInterval(elapsedTimer);
  elapsedTimer = running ? setInterval(renderProgress, ELAPSED_TICK_MS) : null;
  renderProgress();
}

$('renderForm').addEventListener('submit', (e) => {
  e.preventDefault();
  // render() shows its own errors in #error; nothing is lost here.
  render(readForm()).catch(() => {});
});

$('cancelBtn').addEventListener('click', () => {
  if (run?.state === 'running') run.job.cancel();
});

// ---------------------------------------------------------------- progress + tables

function renderProgress() {
  const total = run?.total ?? Number($('tilesSelect').value);
  const done = run?.done ?? 0;
  const bar = $('progress');
  if (bar.max !== total) bar.max = total;
  if (bar.value !== done) bar.value = done;
  const suffix = run?.state === 'cancelled' ? ' (cancelled)' : run?.state === 'failed' ? ' (failed)' : '';
  setText($('progressText'), `${done} / ${total} tiles${suffix}`);
  setText($('elapsed'), run ? seconds(elapsedMs(run)) : '—');
}

function safeCapabilities() {
  try {
    return compute?.getCapabilities() ?? null;
  } catch {
    return null;
  }
}

function connectedIds() {
  try {
    return node?.isInitialized ? node.getNetworkManager().getConnectedPeers().map((p) => String(p.peerId)) : [];
  } catch {
    return [];
  }
}

// This tab's ms per unit, from timings: its workers were busy from the start
// of the render to its last unit, so each unit took workers × that ÷ units.
function selfMsPerUnit(r, units, workers) {
  if (!r || !units || !r.selfUnitsAt || !workers) return NaN;
  return ((r.selfUnitsAt - r.startedAt) * workers) / units;
}

function renderPeers() {
  const selfId = node?.nodeId ?? null;
  const caps = safeCapabilities();
  const connected = connectedIds();
  setText($('peerSummary'), `${connected.length} connected · ${1 + connected.length} worker tab${connected.length ? 's' : ''}`);
  if (!selfId || phase === 'starting') {
    setHtml($('peerTableBody'), '<tr class="empty"><td colspan="7">Starting…</td></tr>');
    return;
  }
  const byPeer = run?.byPeer ?? {};
  const ids = new Set([selfId, ...connected, ...Object.keys(byPeer)]);
  const order = [...ids].sort((a, b) => (a === selfId ? -1 : b === selfId ? 1 : a.localeCompare(b)));
  const totalUnits = Object.values(byPeer).reduce((n, v) => n + v, 0);
  const secs = run ? elapsedMs(run) / 1000 : NaN;

  const html = order.map((id) => {
    const self = id === selfId;
    const units = byPeer[id] ?? 0;
    const peerCaps = self ? null : caps?.peers?.[id];
    const workers = self ? caps?.workers : peerCaps?.workers;
    const ms = self ? selfMsPerUnit(run, units, workers) : peerCaps?.msPerUnit ?? NaN;
    const gone = !self && !connected.includes(id);
    return `<tr class="${self ? 'self' : ''}${gone ? ' gone' : ''}" data-peer="${esc(id)}" data-units="${units}">
      <td class="id" title="${esc(id)}"><span class="swatch" style="background:${peerCss(id)}"></span>${esc(shortId(id))}${gone ? ' <span class="badge">left</span>' : ''}</td>
      <td>${self ? '<span class="badge badge-ok">this tab</span>' : '<span class="muted">—</span>'}</td>
      <td class="num">${Number.isFinite(workers) ? esc(workers) : '—'}</td>
      <td class="num units">${units}</td>
      <td class="num">${totalUnits ? `${((units / totalUnits) * 100).toFixed(1)} %` : '—'}</td>
      <td class="num" title="${self ? 'estimated from this render' : 'smoothed round trip, from the scheduler'}">${Number.isFinite(ms) ? `${self ? '≈ ' : ''}${esc(fixed(ms, 1))}` : '—'}</td>
      <td class="num">${units && secs > 0 ? esc(fixed(units / secs, 1)) : '—'}</td>
    </tr>`;
  }).join('');
  setHtml($('peerTableBody'), html);
}

function renderLegend() {
  const selfId = node?.nodeId ?? null;
  const byPeer = run?.byPeer ?? {};
  const ids = Object.keys(byPeer).sort((a, b) => (a === selfId ? -1 : b === selfId ? 1 : a.localeCompare(b)));
  const html = ids.length
    ? ids.map((id) => `<li title="${esc(id)}"><span class="swatch" style="background:${peerCss(id)}"></span><span class="id">${esc(shortId(id))}</span>${id === selfId ? ' <span class="muted">(this tab)</span>' : ''} <span class="muted">· ${byPeer[id]} tile${byPeer[id] === 1 ? '' : 's'}</span></li>`).join('')
    : `<li class="muted">${run ? 'Waiting for the first tile…' : 'No render yet.'}</li>`;
  setHtml($('legend'), html);
}

function renderStatus() {
  let text;
  let cls;
  if (phase === 'failed') [text, cls] = ['Error: node did not start', 'status-error'];
  else if (phase === 'starting') [text, cls] = ['Starting…', 'status-busy'];
  else if (run?.state === 'running') [text, cls] = ['Rendering…', 'status-busy'];
  else [text, cls] = ['Running', 'status-running'];
  const el = $('status');
  setText(el, text);
  el.className = `status ${cls}`;
}

function renderSignalChip() {
  const chip = $('signalChip');
  let text;
  let cls = '';
  let title;
  if (phase === 'starting' && !node) {
    [text, title] = ['Signaling: …', `Waiting for ${PEER_CONFIG_URL}`];
  } else if (!peerServer) {
    [text, cls, title] = ['BroadcastChannel only', 'chip-warn', `No signaling server (${signalingNote}): only tabs of this browser can meet`];
  } else {
    let state = 'not started';
    try {
      state = node.getStatus().network?.signalingServer?.state ?? state;
    } catch {
      /* keep the default */
    }
    [text, cls, title] = [`PeerJS server: ${state}`, state === 'registered' ? 'chip-ok' : state === 'reconnecting' ? 'chip-err' : '', 'Tabs in other browsers and devices meet through it'];
  }
  setText(chip, text);
  chip.className = `chip chip-signal ${cls}`;
  chip.title = title;
}

function renderNodeInfo() {
  let st = null;
  try {
    st = node?.getStatus() ?? null;
  } catch {
    st = null;
  }
  const c = st?.compute ?? {};
  const caps = safeCapabilities();
  const connected = connectedIds();
  const roomWorkers = (caps?.workers ?? 0) + connected.reduce((n, id) => n + (caps?.peers?.[id]?.workers ?? 0), 0);
  const row = (label, valueHtml) => `<dt>${label}</dt> <dd>${valueHtml}</dd>`;
  const html = [
    row('Node ID:', esc(node?.nodeId ?? '—')),
    row('Room:', esc(roomId)),
    row('Node:', phase === 'failed' ? `<span class="bad">${esc(bootError ?? 'failed')}</span>` : esc(phase)),
    row('Connected peers:', `<span id="peerCount">${connected.length}</span>`),
    row('Workers:', caps ? `${esc(caps.workers)} <span class="muted">${caps.usesWebWorkers ? 'Web Workers' : 'inline'}</span>` : esc(c.workers ?? '—')),
    row('Room workers:', caps ? esc(roomWorkers) : '—'),
    '<div class="section">Compute (this tab)</div>',
    row('Queued:', esc(c.queued ?? '—')),
    row('Running:', esc(c.running ?? '—')),
    row('Completed:', esc(c.completed ?? '—')),
    row('Active jobs:', esc(c.activeJobs ?? '—')),
    row('Rejected results:', `<span class="${c.rejectedResults ? 'bad' : ''}">${esc(c.rejectedResults ?? '—')}</span>`),
    '<div class="section">Renders</div>',
    row('Last image hash:', lastHash ? esc(lastHash) : '—'),
    row('Retries:', run?.stats ? esc(run.stats.retries) : '—'),
  ].join('\n');
  setHtml($('nodeInfo'), html);
}

function refreshAll() {
  renderStatus();
  renderSignalChip();
  renderNodeInfo();
  renderProgress();
  renderPeers();
  renderLegend();
}

// ---------------------------------------------------------------- test hooks

window.computeDemo = {
  render,
  // The FNV-1a hash of the last completed render's raw escape counts, or null.
  lastImageHash: () => lastHash,
  // Resolves once this tab's node is running.
  ready: () => ready,
};

// ---------------------------------------------------------------- boot

drawPending({ side: 8, tileW: canvas.width / 8, tileH: canvas.height / 8 });
refreshAll();
setInterval(refreshAll, REFRESH_MS);
