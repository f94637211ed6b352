// Positions: this tab broadcasts a 16-byte snapshot 20 times a second with
// {reliable: false}, and counts what arrives from each peer (#positionsSent,
// #positionsRates, #positionsCanvas).
import { byId, coalesced, setHtml, setText } from '../shared/dom.js';
import { escapeHtml, plural } from '../shared/format.js';
import { log } from './event-log.js';
import { decodePosition, encodePosition } from './position-codec.js';
import { drawPositions } from './positions-canvas.js';

const INTERVAL_MS = 50;
const RATE_WINDOW_MS = 2000;
const IDLE_MS = 2000; // a stream with no snapshot for this long has stopped

// Arrival times over the last RATE_WINDOW_MS give a rate per second.
function prune(arrivals, now) {
  while (arrivals.length && arrivals[0] <= now - RATE_WINDOW_MS) arrivals.shift();
}

function record(arrivals, now) {
  arrivals.push(now);
  prune(arrivals, now);
}

function rateText(arrivals) {
  prune(arrivals, Date.now());
  return `${(arrivals.length / (RATE_WINDOW_MS / 1000)).toFixed(1)}/s`;
}

// A Lissajous curve with a random phase, so that tabs trace different paths.
const phase = Math.random() * 2 * Math.PI;
function ownPosition(ms) {
  const t = ms / 1000;
  return { x: 0.5 + 0.42 * Math.cos(t * 1.1 + phase), y: 0.5 + 0.38 * Math.sin(t * 1.7 + phase) };
}

export function createPositions(session) {
  const sender = { timer: null, seq: 0, sent: [], peers: 0, paused: null, at: null };
  // peerId -> {arrivals, received, gaps, late, lastSeq, x, y, lastAt, active}
  const streams = new Map();
  const scheduleDraw = coalesced(() => drawPositions(sender.at, streams));

  function tick() {
    const now = Date.now();
    const network = session.node?.isStarted ? session.networkManager : null;
    if (!network) {
      sender.paused = 'the node is not running';
      return;
    }
    sender.at = ownPosition(now);
    try {
      sender.peers = network.broadcast(encodePosition(sender.seq, sender.at.x, sender.at.y), { reliable: false });
      sender.seq = (sender.seq + 1) >>> 0;
      sender.paused = sender.peers ? null : 'no connected peers';
      if (sender.peers) record(sender.sent, now);
    } catch (err) {
      log(`Positions: broadcast failed: ${err.message}`, 'error');
      setBroadcasting(false);
    }
    scheduleDraw();
  }

  function setBroadcasting(on) {
    byId('positionsToggle').checked = on;
    if (on === (sender.timer !== null)) return;
    if (on) {
      sender.timer = setInterval(tick, INTERVAL_MS);
      log(`Positions: broadcasting ${1000 / INTERVAL_MS} snapshots a second with {reliable: false}`);
      tick();
    } else {
      clearInterval(sender.timer);
      sender.timer = null;
      sender.at = null;
      log(`Positions: broadcast off after snapshot #${sender.seq}`);
      scheduleDraw();
    }
    render();
  }

  byId('positionsToggle').addEventListener('change', (e) => setBroadcasting(e.target.checked));

  // True if the bytes were a position snapshot.
  function receive(peerId, bytes) {
    const position = decodePosition(bytes);
    if (!position) return false;
    const { seq, x, y } = position;
    const now = Date.now();
    let stream = streams.get(peerId);
    if (!stream) {
      stream = { arrivals: [], received: 0, gaps: 0, late: 0, lastSeq: null, x, y, lastAt: now, active: false };
      streams.set(peerId, stream);
    }
    if (!stream.active) {
      // New, or resuming after a pause: what was not sent meanwhile is no gap.
      stream.active = true;
      stream.lastSeq = null;
      log(`Positions from ${peerId}: receiving on the unreliable channel (#${seq} at ${x.toFixed(2)}, ${y.toFixed(2)}); rates in the Messages panel`, 'message');
    }
    stream.received += 1;
    stream.lastAt = now;
    record(stream.arrivals, now);
    if (stream.lastSeq === null || seq > stream.lastSeq) {
      if (stream.lastSeq !== null) stream.gaps += seq - stream.lastSeq - 1;
      Object.assign(stream, { lastSeq: seq, x, y });
    } else {
      stream.late += 1; // older than one already shown: counted, not drawn
    }
    scheduleDraw();
    return true;
  }

  function watch(node) {
    node.on('peer-disconnected', ({ peerId }) => {
      streams.delete(peerId);
      scheduleDraw();
    });
  }

  function rateOf(peerId) {
    const stream = streams.get(peerId);
    return stream ? rateText(stream.arrivals) : null;
  }

  // Streams that went quiet are reported once.
  function expireStreams() {
    const now = Date.now();
    for (const [peerId, stream] of streams) {
      if (!stream.active || now - stream.lastAt < IDLE_MS) continue;
      stream.active = false;
      log(`Positions from ${peerId}: stream ended after ${stream.received} snapshots (${stream.gaps} gaps, ${stream.late} late)`, 'message');
      scheduleDraw();
    }
  }

  function render() {
    expireStreams();
    let sent;
    if (sender.timer === null) sent = 'Not broadcasting.';
    else if (sender.paused) sent = `Broadcasting, paused: ${sender.paused}.`;
    else sent = `Broadcasting snapshot #${sender.seq} · ${rateText(sender.sent)} to ${plural(sender.peers, 'peer')}.`;
    setText(byId('positionsSent'), sent);

    const sorted = [...streams].sort(([a], [b]) => a.localeCompare(b));
    setHtml(byId('positionsRates'), sorted.length
      ? sorted.map(([peerId, s]) => `<li${s.active ? '' : ' class="stale"'}>
        <span class="id" title="${escapeHtml(peerId)}">${escapeHtml(peerId)}</span>
        <strong class="rate">${rateText(s.arrivals)}</strong>
        <span class="muted">${s.received} received · ${s.gaps} gaps · ${s.late} late</span>
      </li>`).join('')
      : '<li class="muted">No positions received.</li>');
  }

  return { receive, watch, rateOf, render };
}
