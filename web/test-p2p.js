// PeerCompute P2P test bench.
//
// A Playwright suite drives this page through fixed ids and texts: #status,
// #initBtn/#startBtn/#stopBtn, #nodeInfo, #stateKey/#stateValue/#writeBtn,
// #readKey/#readBtn/#readResult, #snapshotBtn/#stateSnapshot, #log,
// window.node and window.NodeKernel. Two traps follow from how it selects:
//  - it clicks `button:has-text("Initialize" | "Start" | "Stop")`, a
//    case-insensitive substring match, so no other button may contain those words;
//  - it waits for the text "Node initialized" / "Node stopped", so those phrases
//    must only appear once the action really succeeded.
// The node is created once /peer-config.json has answered (or timed out), so
// window.node appears a moment after load; lifecycle clicks made before then
// are queued behind it. The room password never reaches the log, the title or
// the URL (unless the page was opened with ?password=, which tests use).

import { NodeKernel, VERSION } from '/dist/peercompute.js';
import { loadPeerServer, PEER_CONFIG_URL } from './signaling-config.js';

const REFRESH_MS = 500;
const MAX_LOG_ENTRIES = 500;
const MAX_CELL_CHARS = 160;
const PASSWORD_STORE_KEY = 'peercompute-demo:room-password';
const RECEIVED_LOG_PER_SECOND = 5; // received-message log lines per second, beyond which they are counted
const POSITIONS_INTERVAL_MS = 50; // 20 snapshots a second
const POSITIONS_RATE_WINDOW_MS = 2000;
const POSITIONS_IDLE_MS = 2000; // a stream with no snapshot for this long has stopped

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- helpers

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Everything that reaches innerHTML goes through here: peer ids, keys, values
// and message payloads all come from other tabs and are untrusted.
function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function toJson(value, indent) {
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v), indent);
    return text === undefined ? String(value) : text;
  } catch {
    // Cyclic or otherwise unserialisable values still deserve a display.
    return String(value);
  }
}

function parseLoose(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function truncate(text, max = MAX_CELL_CHARS) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function errorText(err) {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : toJson(err);
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

function clockTime(date = new Date()) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

// The library may hand us epoch ms, Date objects or ISO strings.
function toMillis(t) {
  if (t === null || t === undefined || t === '') return NaN;
  if (t instanceof Date) return t.getTime();
  return typeof t === 'number' ? t : new Date(t).getTime();
}

function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${pad(m % 60)}m`;
}

function since(t) {
  const ms = toMillis(t);
  return Number.isFinite(ms) ? duration(Date.now() - ms) : '—';
}

function ago(t) {
  const ms = toMillis(t);
  return Number.isFinite(ms) ? `${duration(Date.now() - ms)} ago` : '—';
}

function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function num(n) {
  return Number.isFinite(n) ? String(n) : '—';
}

function rtt(ms) {
  return Number.isFinite(ms) ? `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms` : '—';
}

// Peer states are library-defined strings; map them onto a fixed set of CSS
// classes instead of interpolating untrusted text into a class attribute.
function stateBadgeClass(state) {
  const s = String(state ?? '').toLowerCase();
  if (['connected', 'open', 'ready', 'established'].includes(s)) return 'badge-ok';
  if (['connecting', 'handshaking', 'negotiating', 'new', 'checking'].includes(s)) return 'badge-warn';
  if (['discovered', 'known', 'idle'].includes(s)) return 'badge-info';
  if (['failed', 'closed', 'disconnected', 'rejected', 'error'].includes(s)) return 'badge-err';
  return '';
}

function isConnectedState(state) {
  return stateBadgeClass(state) === 'badge-ok';
}

// Normalises whatever entries() returns (array of pairs, Map, iterator, or a
// plain object) into [key, value] pairs.

// Only touch the DOM when the markup actually changed, so text selection and
// hover states survive the 500 ms refresh.
const lastHtml = new WeakMap();
function setHtml(el, html) {
  if (lastHtml.get(el) === html) return;
  lastHtml.set(el, html);
  el.innerHTML = html;
}

// ---------------------------------------------------------------- event log

const logEl = $('log');
const LOG_TAGS = { info: 'info', success: 'ok', warn: 'warn', error: 'error', message: 'msg', state: 'state' };

function log(text, kind = 'info') {
  const nearBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 40;

  const entry = document.createElement('div');
  entry.className = `log-entry log-${kind}`;
  const time = document.createElement('time');
  time.textContent = clockTime();
  const tag = document.createElement('span');
  tag.className = 'tag';
  tag.textContent = LOG_TAGS[kind] ?? kind;
  const msg = document.createElement('span');
  msg.className = 'msg';
  msg.textContent = text; // textContent, never innerHTML: peer data is untrusted
  entry.append(time, tag, msg);
  logEl.append(entry);

  while (logEl.childElementCount > MAX_LOG_ENTRIES) logEl.firstElementChild.remove();
  if (nearBottom) logEl.scrollTop = logEl.scrollHeight;

  const consoleFn = kind === 'error' ? console.error : kind === 'warn' ? console.warn : console.log;
  consoleFn(`[peercompute-demo] ${text}`);
}

// ---------------------------------------------------------------- room + node

const params = new URLSearchParams(location.search);
const roomId = (params.get('room') || '').trim() || 'default';
const gameId = (params.get('game') || '').trim() || null;
const { password, passwordSource } = roomPassword();

// A room password entered in the form is kept in this tab's sessionStorage,
// bound to the room and game it was entered for: it survives the reload a
// room switch does without ever being in the URL. ?password= (for tests) wins.
function roomPassword() {
  const fromUrl = params.get('password');
  if (fromUrl) return { password: fromUrl, passwordSource: '?password= in the URL' };
  const saved = readSavedPassword();
  if (saved && saved.roomId === roomId && saved.gameId === gameId && typeof saved.password === 'string' && saved.password) {
    return { password: saved.password, passwordSource: 'entered in this tab' };
  }
  return { password: null, passwordSource: null };
}

function readSavedPassword() {
  try {
    return JSON.parse(sessionStorage.getItem(PASSWORD_STORE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function savePassword(room, game, value) {
  try {
    if (value) sessionStorage.setItem(PASSWORD_STORE_KEY, JSON.stringify({ roomId: room, gameId: game, password: value }));
    else sessionStorage.removeItem(PASSWORD_STORE_KEY);
  } catch {
    /* storage disabled: the password lasts until the reload */
  }
}

// The page's own URL for a room, keeping ?game= and never adding a password.
function roomUrl(room) {
  const url = new URL(location.pathname, location.href);
  url.searchParams.set('room', room);
  if (gameId !== null) url.searchParams.set('game', gameId);
  return url;
}

$('version').textContent = VERSION ?? '?';
$('roomName').textContent = roomId;
$('roomInput').value = roomId;
$('passwordInput').value = password ?? '';
$('gameName').textContent = gameId ?? '';
$('gameChip').hidden = gameId === null;
$('passwordChip').hidden = password === null;
$('newTabLink').href = roomUrl(roomId).href;
document.title = `PeerCompute · ${gameId === null ? '' : `${gameId} / `}${roomId}`;

window.NodeKernel = NodeKernel;

let node = null;
let nodeBooting = true; // until /peer-config.json answered and the node exists
// The PeerJS server the node uses, or null with the reason in signalingNote.
let peerServer = null;
let signalingNote = `waiting for ${PEER_CONFIG_URL}`;


function createNode(config) {
  try {
    return new NodeKernel(config);
  } catch (err) {
    log(`Could not create NodeKernel: ${errorText(err)}`, 'error');
    return null;
  }
}

async function bootNode() {
  try {
    const { server, reason } = await loadPeerServer();
    const base = { roomId, gameId, password };
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
    node ??= createNode(base);
  } finally {
    nodeBooting = false;
  }
  window.node = node;
  if (node) {
    attachNodeListeners();
    if (peerServer) {
      log(`Signaling: BroadcastChannel (tabs of this browser) and the PeerJS server ${serverUrlOf(peerServer)} (other browsers and devices).`);
    } else {
      log(`Signaling: BroadcastChannel only (${signalingNote}); only tabs of this browser can meet.`, 'warn');
    }
  }
  refreshAll();
}

// Tells the inline watchdog in test-p2p.html that the module (and library) loaded.
window.__peerDemoReady = true;

// ---------------------------------------------------------------- status

let busyLabel = null; // e.g. 'Starting…' while a lifecycle call is in flight
let lastError = null; // shown in #status until the next successful lifecycle call
let hasStopped = false;

function safeStatus() {
  if (!node) return null;
  try {
    return node.getStatus();
  } catch {
    return null;
  }
}

function renderStatus(st) {
  let phase;
  let cls;
  if (busyLabel) {
    [phase, cls] = [busyLabel, 'status-busy'];
  } else if (st?.isStarted) {
    [phase, cls] = ['Running', 'status-running'];
  } else if (hasStopped) {
    [phase, cls] = ['Stopped', 'status-stopped'];
  } else if (st?.isInitialized) {
    [phase, cls] = ['Initialized', 'status-ready'];
  } else {
    [phase, cls] = ['Not initialized', 'status-idle'];
  }
  if (!node && !nodeBooting) {
    [phase, cls] = ['Error: node could not be created', 'status-error'];
  } else if (lastError && !busyLabel) {
    phase = `${phase} — Error: ${lastError}`;
    cls = 'status-error';
  }

  const el = $('status');
  if (el.textContent !== phase) el.textContent = phase;
  el.className = `status ${cls}`;
  document.body.classList.toggle('busy', Boolean(busyLabel));
}

// ---------------------------------------------------------------- signaling

const TRANSPORT_LABELS = { 'broadcast-channel': 'BroadcastChannel', 'peerjs-server': 'PeerJS server' };
// The kernel's link states; anything else shows as a plain badge.
const SIGNAL_BADGES = { registered: 'badge-ok', connecting: 'badge-warn', 'awaiting-open': 'badge-warn', reconnecting: 'badge-err' };

function transportLabel(name) {
  return name ? TRANSPORT_LABELS[name] ?? String(name) : '—';
}

function serverUrlOf(server) {
  return `${server.secure ? 'wss' : 'ws'}://${server.host}:${server.port}${server.path}`;
}

// What the page knows of the signaling server: the kernel's view once the
// node is initialized, the configuration before.
function signalingInfo(st) {
  if (!peerServer) return null;
  const live = st?.network?.signalingServer ?? null;
  return {
    url: live?.url ?? serverUrlOf(peerServer),
    state: live?.state ?? 'not started',
    serverId: live?.serverId ?? null,
    roomMembers: live?.roomMembers,
    reconnects: live?.reconnects,
    idTaken: live?.idTaken,
    lastError: live?.lastError ?? null,
  };
}

function signalBadge(state) {
  return `<span class="badge ${SIGNAL_BADGES[state] ?? ''}">${esc(state)}</span>`;
}

function renderSignalChip(info) {
  const chip = $('signalChip');
  let text;
  let cls;
  let title;
  if (nodeBooting) {
    [text, cls, title] = ['Signaling: …', '', `Waiting for ${PEER_CONFIG_URL}`];
  } else if (!info) {
    [text, cls, title] = ['BroadcastChannel only', 'chip-warn', `No signaling server (${signalingNote}): only tabs of this browser can meet`];
  } else {
    const ok = info.state === 'registered';
    [text, cls, title] = [`PeerJS server: ${info.state}`, ok ? 'chip-ok' : info.state === 'reconnecting' ? 'chip-err' : '',
      `${info.url}: tabs in other browsers and devices meet through it`];
  }
  if (chip.textContent !== text) chip.textContent = text;
  chip.className = `chip chip-signal ${cls}`;
  chip.title = title;
}

// Logs the moments that matter: registered, lost, and each new error. The
// 500 ms poll can miss a state that lasted less, which is fine for a log.
let loggedSignal = { state: null, lastError: null };
function logSignalingChanges(info) {
  if (!info) return;
  if (info.state !== loggedSignal.state) {
    if (info.state === 'registered') {
      log(`Signaling server ${info.url}: registered as ${info.serverId ?? '?'}`, 'success');
    } else if (info.state === 'reconnecting') {
      log(`Signaling server ${info.url}: connection lost, reconnecting${info.lastError ? ` (${info.lastError})` : ''}`, 'warn');
    }
  }
  if (info.lastError && info.lastError !== loggedSignal.lastError && info.state !== 'reconnecting') {
    log(`Signaling server error: ${info.lastError}`, 'warn');
  }
  loggedSignal = { state: info.state, lastError: info.lastError };
}

// ---------------------------------------------------------------- node info

function connectedPeerIds(st) {
  const nm = safeNetworkManager();
  try {
    const peers = nm?.getConnectedPeers?.();
    if (Array.isArray(peers)) return peers.map((p) => p?.peerId).filter(Boolean);
  } catch {
    /* fall through to the status snapshot */
  }
  const conns = st?.network?.connectionStates;
  if (conns && typeof conns === 'object') {
    return Object.entries(conns)
      .filter(([, state]) => isConnectedState(state))
      .map(([id]) => id);
  }
  return [];
}

function flag(v) {
  const on = v === true;
  return `<span class="flag flag-${on}">${on}</span>`;
}

function renderNodeInfo(st, signal) {
  const net = st?.network ?? {};
  const state = st?.state ?? {};
  const compute = st?.compute ?? {};
  const peers = connectedPeerIds(st);
  const peersHtml = peers.length
    ? peers.map((id) => `<span class="peer-chip">${esc(id)}</span>`).join(' ')
    : '<span class="muted">none</span>';
  const startedMs = toMillis(st?.startedAt);
  const lastRejection = net.lastRejection ? truncate(toJson(net.lastRejection)) : '—';
  const transports = Array.isArray(net.transports) && net.transports.length
    ? net.transports.map((t) => `<span class="tag-chip">${esc(transportLabel(t))}</span>`).join(' ')
    : '<span class="muted">none yet (set up by Start)</span>';
  const passwordHtml = password === null
    ? '<span class="muted">none</span>'
    : `protected <span class="muted">(${esc(passwordSource)})</span>`;

  // A literal space separates each label from its value so textContent reads
  // "Peer ID: abc" rather than "Peer ID:abc".
  const row = (label, valueHtml) => `<dt>${label}</dt> <dd>${valueHtml}</dd>`;
  const signalingRows = signal
    ? [
      row('Server:', esc(signal.url)),
      row('Server state:', signalBadge(signal.state)),
      row('Registered ID:', signal.serverId
        ? `${esc(signal.serverId)}${signal.state === 'registered' ? '' : ' <span class="muted">(not registered)</span>'}`
        : '—'),
      row('Room members:', Number.isFinite(signal.roomMembers) ? `${esc(signal.roomMembers)} other${signal.roomMembers === 1 ? '' : 's'} listed` : '—'),
      row('Reconnects:', `${esc(num(signal.reconnects))}${signal.idTaken ? ` <span class="bad">· id taken ${esc(signal.idTaken)}×</span>` : ''}`),
      row('Last error:', signal.lastError ? `<span class="bad">${esc(truncate(signal.lastError))}</span>` : '—'),
    ]
    : [row('Server:', nodeBooting ? '…' : `<span class="muted">none — BroadcastChannel only (${esc(signalingNote)})</span>`)];
  const html = [
    row('Node ID:', esc(st?.nodeId ?? '—')),
    row('Room:', esc(st?.roomId ?? roomId)),
    row('Game:', gameId === null ? '<span class="muted">none</span>' : esc(gameId)),
    row('Password:', passwordHtml),
    row('Topology:', esc(typeof st?.topology === 'object' ? toJson(st.topology) : st?.topology ?? '—')),
    row('isInitialized:', flag(st?.isInitialized)),
    row('isStarted:', flag(st?.isStarted)),
    row('Uptime:', st?.isStarted && Number.isFinite(startedMs) ? esc(duration(Date.now() - startedMs)) : '—'),
    '<div class="section">Network</div>',
    row('Peer ID:', esc(net.peerId ?? '—')),
    row('Peers:', peersHtml),
    row('Connected:', flag(net.isConnected)),
    row('Peer count:', esc(num(net.peerCount))),
    row('Known peers:', esc(num(Array.isArray(net.knownPeers) ? net.knownPeers.length : net.knownPeers))),
    row('Traffic in:', `${esc(bytes(net.bytesIn))} · ${esc(num(net.messagesIn))} msgs`),
    row('Traffic out:', `${esc(bytes(net.bytesOut))} · ${esc(num(net.messagesOut))} msgs`),
    row('Rejected:', `<span class="${net.rejectedFrames || net.rejectedSignals ? 'bad' : ''}">${esc(num(net.rejectedFrames))} frames · ${esc(num(net.rejectedSignals))} signals</span>`),
    row('Last rejection:', esc(lastRejection)),
    '<div class="section">Signaling</div>',
    row('Transports:', transports),
    ...signalingRows,
    '<div class="section">State</div>',
    row('Keys:', esc(num(state.keyCount))),
    row('Tombstones:', esc(num(state.tombstones))),
    row('hasPersistence:', flag(state.hasPersistence)),
    row('hasP2PSync:', flag(state.hasP2PSync)),
    '<div class="section">Compute</div>',
    row('Enabled:', flag(compute.enabled)),
    row('Available:', flag(compute.available)),
  ].join('\n');
  setHtml($('nodeInfo'), html);
}

// ---------------------------------------------------------------- peer table

function safeNetworkManager() {
  try {
    return node?.getNetworkManager?.() ?? null;
  } catch {
    return null;
  }
}

function listPeers() {
  const nm = safeNetworkManager();
  if (!nm) return [];
  try {
    const peers = typeof nm.getPeers === 'function' ? nm.getPeers() : nm.getConnectedPeers?.();
    return Array.isArray(peers) ? peers.filter((p) => p && p.peerId) : [];
  } catch {
    return [];
  }
}

function renderPeers() {
  const peers = listPeers().sort((a, b) => String(a.peerId).localeCompare(String(b.peerId)));
  const connected = peers.filter((p) => isConnectedState(p.state));

  $('peerSummary').textContent = `${connected.length} connected · ${peers.length} known`;

  const html = peers.length
    ? peers.map((p) => {
      const rejected = Number(p.rejected) || 0;
      const positions = positionStreams.get(String(p.peerId));
      return `<tr class="clickable" data-peer="${esc(p.peerId)}" title="Click to message this peer">
        <td class="id" title="${esc(p.peerId)}">${esc(p.peerId)}</td>
        <td><span class="badge ${stateBadgeClass(p.state)}">${esc(p.state ?? 'unknown')}</span><span class="sub">${esc([p.transport, isConnectedState(p.state) ? `up ${since(p.connectedAt)}` : null].filter(Boolean).join(' · '))}</span></td>
        <td class="nowrap">${esc(signalingRoute(p.signaling))}</td>
        <td>${passwordCell(p.passwordVerified)}</td>
        <td class="num">${esc(rtt(p.rttMs))}</td>
        <td class="num">${esc(bytes(p.bytesIn))}<span class="sub">${esc(num(p.messagesIn))} msgs</span></td>
        <td class="num">${esc(bytes(p.bytesOut))}<span class="sub">${esc(num(p.messagesOut))} msgs</span></td>
        <td class="num">${positions ? esc(rateText(positions.arrivals)) : '—'}</td>
        <td class="num${rejected ? ' bad' : ''}">${esc(num(p.rejected))}</td>
        <td class="num">${esc(ago(p.lastHeardAt ?? p.lastMessageTime))}</td>
      </tr>`;
    }).join('')
    : `<tr class="empty"><td colspan="10">No peers yet. Open this page in another tab or browser with room "${esc(roomId)}"${gameId === null ? '' : ` and game "${esc(gameId)}"`}${password === null ? '' : ' and the same password'}.</td></tr>`;
  setHtml($('peerTableBody'), html);

  syncMessageTargets(connected.map((p) => String(p.peerId)));
}

function signalingRoute(signaling) {
  return signaling ? transportLabel(signaling) : '—';
}

function passwordCell(verified) {
  if (password === null) return '<span class="muted" title="This room has no password">—</span>';
  return verified === true
    ? '<span class="badge badge-ok" title="The peer proved it knows the room password">verified</span>'
    : '<span class="badge badge-warn" title="The peer has not proved the room password yet">pending</span>';
}

// Rebuilding the <select> every tick would reset the user's choice, so only
// rebuild when the set of connected peers changes.
let targetIds = '';
function syncMessageTargets(ids) {
  const key = ids.join('\n');
  if (key === targetIds) return;
  targetIds = key;
  const select = $('msgTarget');
  const previous = select.value;
  const options = ['<option value="*">Everyone (broadcast)</option>']
    .concat(ids.map((id) => `<option value="${esc(id)}">${esc(id)}</option>`));
  select.innerHTML = options.join('');
  select.value = ids.includes(previous) ? previous : '*';
}

// ---------------------------------------------------------------- live state

let boundStateManager = null;
let stateUnsubscribe = null;
const stateMeta = new Map(); // key -> { origin, at } from 'state-changed' events
const flashKeys = new Set();
let stateRenderTimer = null;
let stateRenderGen = 0;
let renderedKeyCount = 0;

function safeStateManager() {
  try {
    return node?.getStateManager?.() ?? null;
  } catch {
    return null;
  }
}

// The state manager may only exist after initialize() (or be replaced on a
// restart), so (re)subscribe whenever the instance we see changes.
function bindStateManager() {
  const sm = safeStateManager();
  if (sm === boundStateManager) return;
  if (stateUnsubscribe) {
    try { stateUnsubscribe(); } catch { /* old instance already gone */ }
  }
  stateUnsubscribe = null;
  boundStateManager = sm;
  if (sm && typeof sm.subscribe === 'function') {
    try {
      const unsub = sm.subscribe('*', (_value, key) => {
        if (key !== undefined && flashKeys.size < MAX_STATE_ROWS) flashKeys.add(String(key));
        scheduleStateRender();
      });
      stateUnsubscribe = typeof unsub === 'function' ? unsub : null;
    } catch (err) {
      log(`subscribe('*') failed: ${errorText(err)}`, 'warn');
    }
  }
  scheduleStateRender();
}

// Bursts of remote updates (e.g. batchWrite from a peer) collapse into one render.
function scheduleStateRender() {
  if (stateRenderTimer !== null) return;
  stateRenderTimer = setTimeout(() => {
    stateRenderTimer = null;
    renderStateTable();
  }, 30);
}

// The table shows the first MAX_STATE_ROWS keys in order; only those are read,
// so a state of 100,000 keys renders as fast as one of 200.
const MAX_STATE_ROWS = 200;

function readVisibleEntries(sm) {
  const keys = typeof sm.keys === 'function' ? sm.keys() : Object.keys(sm.snapshot?.()?.data ?? {});
  keys.sort();
  return { total: keys.length, pairs: keys.slice(0, MAX_STATE_ROWS).map((k) => [k, sm.read(k)]) };
}

async function renderStateTable() {
  const gen = ++stateRenderGen;
  const sm = boundStateManager;
  let view = { total: 0, pairs: [] };
  if (sm) {
    try {
      view = readVisibleEntries(sm);
    } catch {
      view = { total: 0, pairs: [] };
    }
  }
  if (gen !== stateRenderGen) return; // a newer render superseded this one

  const { pairs, total } = view;
  renderedKeyCount = total;
  $('stateCount').textContent = `${total} key${total === 1 ? '' : 's'}${total > pairs.length ? ` (first ${pairs.length} shown)` : ''}`;

  const html = pairs.length
    ? pairs.map(([key, value]) => {
      const k = String(key);
      const meta = stateMeta.get(k);
      const json = toJson(value);
      const origin = meta?.origin ?? '—';
      return `<tr class="clickable${flashKeys.has(k) ? ' flash' : ''}" data-key="${esc(k)}">
        <td class="id" title="${esc(k)}">${esc(k)}</td>
        <td class="val" title="${esc(truncate(json, 2000))}">${esc(truncate(json))}</td>
        <td class="id" title="${esc(origin)}">${esc(origin)}</td>
        <td class="num">${meta ? esc(clockTime(new Date(meta.at))) : '—'}</td>
        <td class="num"><button type="button" class="row-delete" data-delete="${esc(k)}" title="Delete this key" aria-label="Delete key">×</button></td>
      </tr>`;
    }).join('')
    : '<tr class="empty"><td colspan="5">State is empty.</td></tr>';
  // Rows being flashed must be re-inserted for the animation to replay, even
  // if the markup is unchanged (e.g. the same value written twice).
  if (flashKeys.size) lastHtml.delete($('stateTableBody'));
  flashKeys.clear();
  setHtml($('stateTableBody'), html);
}

// ---------------------------------------------------------------- refresh loop

function refreshAll() {
  const st = safeStatus();
  const signal = signalingInfo(st);
  renderStatus(st);
  renderSignalChip(signal);
  logSignalingChanges(signal);
  renderNodeInfo(st, signal);
  renderPeers();
  renderPositions();
  bindStateManager();
  // Safety net for changes that arrive without a subscribe/event callback
  // (e.g. state restored from persistence during initialize()).
  const keyCount = st?.state?.keyCount;
  if (Number.isFinite(keyCount) && keyCount !== renderedKeyCount) scheduleStateRender();
}

// ---------------------------------------------------------------- lifecycle

// Lifecycle clicks are queued rather than blocked: a Start clicked while
// Initialize is still running will run right after it instead of being lost,
// and buttons are never disabled (so "start before initialize" still reaches
// the library and shows its error).
let actionQueue = Promise.resolve();
function enqueue(fn) {
  actionQueue = actionQueue.then(fn, fn);
  return actionQueue;
}

async function runLifecycle({ action, busy }, call, onSuccess) {
  if (!node) {
    lastError = 'NodeKernel was not created (see log)';
    log(`${action} failed: ${lastError}`, 'error');
    refreshAll();
    return;
  }
  busyLabel = busy;
  refreshAll();
  try {
    await call();
    lastError = null;
    onSuccess();
  } catch (err) {
    lastError = errorText(err);
    log(`${action} failed: ${lastError}`, 'error');
    console.error(err);
  } finally {
    busyLabel = null;
    refreshAll();
  }
}

$('initBtn').addEventListener('click', () => enqueue(() => runLifecycle(
  { action: 'Initialize', busy: 'Initializing…' },
  () => node.initialize(),
  () => {
    log('Node initialized successfully!', 'success');
    bindStateManager();
  },
)));

$('startBtn').addEventListener('click', () => enqueue(() => runLifecycle(
  { action: 'Start', busy: 'Starting…' },
  () => node.start(),
  () => {
    hasStopped = false;
    const peerId = safeStatus()?.network?.peerId;
    log(`Node started in room "${roomId}"${peerId ? ` as ${peerId}` : ''}; waiting for peers…`, 'success');
  },
)));

$('stopBtn').addEventListener('click', () => enqueue(() => runLifecycle(
  { action: 'Stop', busy: 'Stopping…' },
  () => node.stop(),
  () => {
    hasStopped = true;
    log('Node stopped', 'info');
  },
)));

// ---------------------------------------------------------------- node events

function describeValue(value) {
  return truncate(toJson(value), 300);
}

function listen(eventName, handler) {
  if (!node || typeof node.on !== 'function') return;
  try {
    node.on(eventName, (payload) => {
      try {
        handler(payload ?? {});
      } catch (err) {
        console.error(`handler for '${eventName}' failed`, err);
      }
    });
  } catch (err) {
    log(`Could not subscribe to '${eventName}': ${errorText(err)}`, 'warn');
  }
}

// A burst of remote changes (a sync of thousands of keys) is logged as one
// line per tick, not one line each.
const pendingStateLog = [];
let stateLogScheduled = false;

function flushStateLog() {
  stateLogScheduled = false;
  const entries = pendingStateLog.splice(0);
  if (entries.length <= 3) {
    for (const { k, deleted, value, originText } of entries) {
      log(deleted
        ? `State deleted by ${originText}: ${k}`
        : `State changed by ${originText}: ${k} = ${describeValue(value)}`, 'state');
    }
    return;
  }
  const origins = [...new Set(entries.map((e) => e.originText))].join(', ');
  log(`State: ${entries.length} keys changed by ${origins}`, 'state');
}

// Received messages are logged at most RECEIVED_LOG_PER_SECOND a second; the
// rest are counted per peer and summed up in one line when the second is over.
const receivedLog = { windowStart: 0, logged: 0, dropped: new Map(), timer: null };

function logReceived(peerId, text) {
  const now = Date.now();
  if (now - receivedLog.windowStart >= 1000) {
    flushReceivedLog();
    receivedLog.windowStart = now;
    receivedLog.logged = 0;
  }
  if (receivedLog.logged < RECEIVED_LOG_PER_SECOND) {
    receivedLog.logged += 1;
    log(text, 'message');
    return;
  }
  receivedLog.dropped.set(peerId, (receivedLog.dropped.get(peerId) ?? 0) + 1);
  receivedLog.timer ??= setTimeout(flushReceivedLog, 1000 - (now - receivedLog.windowStart));
}

function flushReceivedLog() {
  clearTimeout(receivedLog.timer);
  receivedLog.timer = null;
  if (!receivedLog.dropped.size) return;
  const counts = [...receivedLog.dropped];
  receivedLog.dropped.clear();
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  const from = counts.map(([peerId, n]) => `${n} from ${peerId}`).join(', ');
  log(`… ${total} more received message${total === 1 ? '' : 's'} not shown (${from}): the log shows at most ${RECEIVED_LOG_PER_SECOND} a second`, 'message');
}

function onMessage({ peerId, message }) {
  if (message instanceof Uint8Array) {
    const position = decodePosition(message);
    if (position) {
      receivePosition(String(peerId), position);
      return;
    }
    logReceived(peerId, `Binary message from ${peerId}: ${describeBytes(message)}`);
    return;
  }
  const body = message && typeof message === 'object' && message.type === 'demo-message'
    ? message.payload
    : message;
  logReceived(peerId, `Message from ${peerId}: ${describeValue(body)}`);
}

function onStateChanged({ key, value, deleted, origin }) {
  const k = String(key);
  // origin is null for this node's own writes, which the Write/Delete handlers log.
  const originText = origin === null || origin === undefined ? 'local' : String(origin);
  stateMeta.set(k, { origin: originText, at: Date.now() });
  if (flashKeys.size < MAX_STATE_ROWS) flashKeys.add(k);
  if (originText !== 'local') {
    pendingStateLog.push({ k, deleted, value, originText });
    if (!stateLogScheduled) {
      stateLogScheduled = true;
      queueMicrotask(flushStateLog);
    }
  }
  scheduleStateRender();
}

function attachNodeListeners() {
  listen('peer-connected', ({ peerId }) => {
    log(`Peer connected: ${peerId}`, 'success');
    refreshAll();
  });

  listen('peer-disconnected', ({ peerId, reason }) => {
    log(`Peer disconnected: ${peerId}${reason ? ` (${typeof reason === 'string' ? reason : toJson(reason)})` : ''}`, 'warn');
    positionStreams.delete(String(peerId));
    schedulePositionsDraw();
    refreshAll();
  });

  listen('state-changed', onStateChanged);
  listen('message', onMessage);

  listen('started', () => {
    hasStopped = false;
    log('Event: started');
    refreshAll();
  });

  listen('stopped', () => {
    hasStopped = true;
    log('Event: stopped');
    refreshAll();
  });
}

// ---------------------------------------------------------------- state panel

function requireStateManager(action) {
  const sm = safeStateManager();
  if (!sm) log(`${action} failed: no state manager (initialize the node first)`, 'error');
  return sm;
}

async function writeState() {
  const key = $('stateKey').value.trim();
  if (!key) {
    log('Write: enter a key first', 'warn');
    return;
  }
  const value = parseLoose($('stateValue').value);
  const sm = requireStateManager('Write');
  if (!sm) return;
  try {
    await sm.write(key, value);
    stateMeta.set(key, { origin: 'local', at: Date.now() });
    flashKeys.add(key);
    log(`Wrote ${key} = ${describeValue(value)}`, 'success');
    $('readKey').value = key;
  } catch (err) {
    log(`Write failed: ${errorText(err)}`, 'error');
  }
  scheduleStateRender();
  refreshAll();
}

async function deleteKey(key) {
  if (!key) {
    log('Delete: enter a key first', 'warn');
    return;
  }
  const sm = requireStateManager('Delete');
  if (!sm) return;
  try {
    await sm.delete(key);
    stateMeta.set(key, { origin: 'local', at: Date.now() });
    log(`Deleted ${key}`, 'success');
  } catch (err) {
    log(`Delete failed: ${errorText(err)}`, 'error');
  }
  scheduleStateRender();
  refreshAll();
}

async function readState() {
  const key = $('readKey').value.trim();
  if (!key) {
    log('Read: enter a key first', 'warn');
    return;
  }
  const sm = requireStateManager('Read');
  if (!sm) return;
  const out = $('readResult');
  try {
    const value = await sm.read(key);
    // read() of a missing key and of a stored null/undefined look alike;
    // has() tells them apart when the library provides it.
    const present = typeof sm.has === 'function' ? await sm.has(key) : value !== undefined;
    out.classList.toggle('missing', !present);
    if (present) {
      out.textContent = toJson(value);
      $('readCaption').textContent = `Value of "${key}":`;
      log(`Read ${key} = ${describeValue(value)}`);
    } else {
      out.textContent = 'undefined — key not found';
      $('readCaption').textContent = `"${key}" is not in the state.`;
      log(`Read ${key}: not found`, 'warn');
    }
  } catch (err) {
    out.classList.add('missing');
    out.textContent = `Error: ${errorText(err)}`;
    log(`Read failed: ${errorText(err)}`, 'error');
  }
}

async function refreshSnapshot() {
  const sm = requireStateManager('Snapshot');
  if (!sm) return;
  try {
    const snap = await sm.snapshot();
    $('stateSnapshot').textContent = toJson(snap, 2);
    log(`Snapshot refreshed (${snap?.keyCount ?? '?'} keys, version ${toJson(snap?.version)})`);
  } catch (err) {
    $('stateSnapshot').textContent = `Error: ${errorText(err)}`;
    log(`Snapshot failed: ${errorText(err)}`, 'error');
  }
}

async function clearState() {
  const sm = requireStateManager('Clear');
  if (!sm) return;
  // clear() replicates to every peer in the room, hence the confirmation.
  if (!window.confirm(`Delete every key in room "${roomId}" for all peers?`)) return;
  try {
    await sm.clear();
    log('State cleared', 'success');
  } catch (err) {
    log(`Clear failed: ${errorText(err)}`, 'error');
  }
  scheduleStateRender();
  refreshAll();
}

$('writeForm').addEventListener('submit', (e) => {
  e.preventDefault();
  writeState();
});
$('deleteBtn').addEventListener('click', () => deleteKey($('stateKey').value.trim()));
$('readForm').addEventListener('submit', (e) => {
  e.preventDefault();
  readState();
});
$('snapshotBtn').addEventListener('click', refreshSnapshot);
$('clearStateBtn').addEventListener('click', clearState);

$('stateTableBody').addEventListener('click', async (e) => {
  const del = e.target.closest('[data-delete]');
  if (del) {
    deleteKey(del.dataset.delete);
    return;
  }
  const row = e.target.closest('tr[data-key]');
  if (!row) return;
  const key = row.dataset.key;
  $('stateKey').value = key;
  $('readKey').value = key;
  const sm = safeStateManager();
  try {
    const value = sm ? await sm.read(key) : undefined;
    // Raw text only when it would be read back as the same string; otherwise
    // JSON, so that re-writing "42" (a string) doesn't turn it into 42.
    $('stateValue').value = typeof value === 'string' && parseLoose(value) === value ? value : toJson(value);
  } catch {
    /* leave the value box as it was */
  }
});

// ---------------------------------------------------------------- messages

$('peerTableBody').addEventListener('click', (e) => {
  const row = e.target.closest('tr[data-peer]');
  if (!row) return;
  const select = $('msgTarget');
  const id = row.dataset.peer;
  if ([...select.options].some((o) => o.value === id)) select.value = id;
  $('msgText').focus();
});

$('msgForm').addEventListener('submit', async (e) => {
  e.preventDefault();
  const raw = $('msgText').value;
  if (!raw.trim()) {
    log('Send: type a message first', 'warn');
    return;
  }
  const nm = safeNetworkManager();
  if (!nm) {
    log('Send failed: no network manager (initialize and start the node first)', 'error');
    return;
  }
  // Wrapped in a typed envelope so receivers can tell demo chatter apart from
  // other application messages.
  const message = { type: 'demo-message', payload: parseLoose(raw), sentAt: Date.now() };
  const target = $('msgTarget').value;
  try {
    if (target === '*') {
      const result = await nm.broadcast(message);
      const count = typeof result === 'number' ? ` to ${result} peer${result === 1 ? '' : 's'}` : '';
      log(`Broadcast${count}: ${describeValue(message.payload)}`, 'message');
    } else {
      const result = await nm.sendToPeer(target, message);
      if (result === false) throw new Error(`peer ${target} is not reachable`);
      log(`Sent to ${target}: ${describeValue(message.payload)}`, 'message');
    }
    $('msgText').value = '';
  } catch (err) {
    log(`Send failed: ${errorText(err)}`, 'error');
  }
});

// ---------------------------------------------------------------- positions

// A position snapshot is 16 bytes, little-endian: the magic 'PCP1', a uint32
// sequence number, and x, y as float32 in [0, 1]. The magic tells it apart
// from any other binary message; the sequence number shows what the
// unreliable channel lost ("gaps") or delivered out of order ("late").
const POSITION_MAGIC = 0x31504350; // 'P' 'C' 'P' '1'
const POSITION_BYTES = 16;

function encodePosition(seq, x, y) {
  const view = new DataView(new ArrayBuffer(POSITION_BYTES));
  view.setUint32(0, POSITION_MAGIC, true);
  view.setUint32(4, seq, true);
  view.setFloat32(8, x, true);
  view.setFloat32(12, y, true);
  return new Uint8Array(view.buffer);
}

function decodePosition(bytes) {
  if (bytes.byteLength !== POSITION_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== POSITION_MAGIC) return null;
  const x = view.getFloat32(8, true);
  const y = view.getFloat32(12, true);
  if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return null; // also rejects NaN
  return { seq: view.getUint32(4, true), x, y };
}

function describeBytes(bytes) {
  const head = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.byteLength} bytes [${head}${bytes.byteLength > 16 ? ' …' : ''}]`;
}

// This tab's position: a Lissajous curve with a random phase, so that tabs
// trace different paths.
const positionPhase = Math.random() * 2 * Math.PI;
function ownPosition(ms) {
  const t = ms / 1000;
  return { x: 0.5 + 0.42 * Math.cos(t * 1.1 + positionPhase), y: 0.5 + 0.38 * Math.sin(t * 1.7 + positionPhase) };
}

// Arrival times over the last POSITIONS_RATE_WINDOW_MS give a rate per second.
function recordArrival(arrivals, now) {
  arrivals.push(now);
  pruneArrivals(arrivals, now);
}

function pruneArrivals(arrivals, now) {
  while (arrivals.length && arrivals[0] <= now - POSITIONS_RATE_WINDOW_MS) arrivals.shift();
}

function ratePerSecond(arrivals) {
  pruneArrivals(arrivals, Date.now());
  return arrivals.length / (POSITIONS_RATE_WINDOW_MS / 1000);
}

function rateText(arrivals) {
  return `${ratePerSecond(arrivals).toFixed(1)}/s`;
}

const positionSender = { timer: null, seq: 0, sent: [], peers: 0, paused: null, at: null };
// peerId -> { arrivals, received, gaps, late, lastSeq, x, y, lastAt, active }
const positionStreams = new Map();

function sendPositionTick() {
  const now = Date.now();
  const nm = node?.isStarted ? safeNetworkManager() : null;
  if (!nm) {
    positionSender.paused = 'the node is not running';
    return;
  }
  positionSender.at = ownPosition(now);
  try {
    const { x, y } = positionSender.at;
    positionSender.peers = nm.broadcast(encodePosition(positionSender.seq, x, y), { reliable: false });
    positionSender.seq = (positionSender.seq + 1) >>> 0;
    positionSender.paused = positionSender.peers ? null : 'no connected peers';
    if (positionSender.peers) recordArrival(positionSender.sent, now);
  } catch (err) {
    log(`Positions: broadcast failed: ${errorText(err)}`, 'error');
    setPositions(false);
  }
  schedulePositionsDraw();
}

function setPositions(on) {
  $('positionsToggle').checked = on;
  if (on === (positionSender.timer !== null)) return;
  if (on) {
    positionSender.timer = setInterval(sendPositionTick, POSITIONS_INTERVAL_MS);
    log(`Positions: broadcasting ${1000 / POSITIONS_INTERVAL_MS} snapshots a second with {reliable: false}`);
    sendPositionTick();
  } else {
    clearInterval(positionSender.timer);
    positionSender.timer = null;
    positionSender.at = null;
    log(`Positions: broadcast off after snapshot #${positionSender.seq}`);
    schedulePositionsDraw();
  }
  renderPositions();
}

function receivePosition(peerId, { seq, x, y }) {
  const now = Date.now();
  let stream = positionStreams.get(peerId);
  if (!stream) {
    stream = { arrivals: [], received: 0, gaps: 0, late: 0, lastSeq: null, x, y, lastAt: now, active: false };
    positionStreams.set(peerId, stream);
  }
  if (!stream.active) {
    // A new stream, or one that resumes after a pause: what was not sent
    // during the pause is not a gap.
    stream.active = true;
    stream.lastSeq = null;
    log(`Positions from ${peerId}: receiving on the unreliable channel (#${seq} at ${x.toFixed(2)}, ${y.toFixed(2)}); rates in the Messages panel`, 'message');
  }
  stream.received += 1;
  stream.lastAt = now;
  recordArrival(stream.arrivals, now);
  if (stream.lastSeq === null || seq > stream.lastSeq) {
    if (stream.lastSeq !== null) stream.gaps += seq - stream.lastSeq - 1;
    Object.assign(stream, { lastSeq: seq, x, y });
  } else {
    stream.late += 1; // older than one already shown: counted, not drawn
  }
  schedulePositionsDraw();
}

// Called by the refresh loop: streams that went quiet are reported once.
function expirePositionStreams() {
  const now = Date.now();
  for (const [peerId, stream] of positionStreams) {
    if (!stream.active || now - stream.lastAt < POSITIONS_IDLE_MS) continue;
    stream.active = false;
    log(`Positions from ${peerId}: stream ended after ${stream.received} snapshots (${stream.gaps} gaps, ${stream.late} late)`, 'message');
    schedulePositionsDraw();
  }
}

function renderPositions() {
  expirePositionStreams();
  const sender = positionSender;
  let sent;
  if (sender.timer === null) sent = 'Not broadcasting.';
  else if (sender.paused) sent = `Broadcasting, paused: ${sender.paused}.`;
  else sent = `Broadcasting snapshot #${sender.seq} · ${rateText(sender.sent)} to ${sender.peers} peer${sender.peers === 1 ? '' : 's'}.`;
  const sentEl = $('positionsSent');
  if (sentEl.textContent !== sent) sentEl.textContent = sent;

  const streams = [...positionStreams].sort(([a], [b]) => a.localeCompare(b));
  const html = streams.length
    ? streams.map(([peerId, st]) => `<li${st.active ? '' : ' class="stale"'}>
        <span class="id" title="${esc(peerId)}">${esc(peerId)}</span>
        <strong class="rate">${esc(rateText(st.arrivals))}</strong>
        <span class="muted">${esc(`${st.received} received · ${st.gaps} gaps · ${st.late} late`)}</span>
      </li>`).join('')
    : '<li class="muted">No positions received.</li>';
  setHtml($('positionsRates'), html);
}

// The canvas is redrawn at most once a frame, and only when something moved.
let positionsDrawPending = false;
function schedulePositionsDraw() {
  if (positionsDrawPending) return;
  positionsDrawPending = true;
  requestAnimationFrame(() => {
    positionsDrawPending = false;
    drawPositions();
  });
}

function drawPositions() {
  const canvas = $('positionsCanvas');
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (!width || !height) return;
  if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
  const ctx = canvas.getContext('2d');
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  ctx.clearRect(0, 0, width, height);

  const pad = 10 * ratio;
  const dot = (x, y, fill, label, alpha = 1) => {
    const px = pad + x * (width - 2 * pad);
    const py = pad + y * (height - 2 * pad);
    ctx.globalAlpha = alpha;
    ctx.fillStyle = fill;
    ctx.beginPath();
    ctx.arc(px, py, 5 * ratio, 0, 2 * Math.PI);
    ctx.fill();
    ctx.font = `${11 * ratio}px ${color('--mono')}`;
    ctx.fillStyle = color('--muted');
    ctx.fillText(label, px + 8 * ratio, py + 4 * ratio);
    ctx.globalAlpha = 1;
  };
  for (const [peerId, st] of positionStreams) {
    dot(st.x, st.y, color('--ok'), peerId.slice(-6), st.active ? 1 : 0.35);
  }
  if (positionSender.at) dot(positionSender.at.x, positionSender.at.y, color('--accent'), 'you');
}

$('positionsToggle').addEventListener('change', (e) => setPositions(e.target.checked));

// ---------------------------------------------------------------- misc UI

$('clearLogBtn').addEventListener('click', () => {
  logEl.replaceChildren();
});

$('roomForm').addEventListener('submit', (e) => {
  e.preventDefault();
  const next = $('roomInput').value.trim() || 'default';
  const nextPassword = $('passwordInput').value || null;
  if (next === roomId && nextPassword === password) return;
  // A node is bound to one room and password for its lifetime, so switching
  // reloads. The password goes to sessionStorage, never into the URL.
  savePassword(next, gameId, nextPassword);
  const url = new URL(location.href);
  url.searchParams.set('room', next);
  url.searchParams.delete('password');
  location.assign(url.toString());
});

// ---------------------------------------------------------------- boot

log(`PeerCompute ${VERSION ?? ''} loaded; room "${roomId}"${gameId === null ? '' : ` of game "${gameId}"`}${password === null ? '' : ', password-protected'}. Click "Initialize Node", then "Start Node".`);
refreshAll();
setInterval(refreshAll, REFRESH_MS);
// Lifecycle clicks made while the node is being created wait for it.
enqueue(bootNode);
