// A live graph of the peers as this tab sees them (an <svg>): this tab in
// the middle, every peer it knows around it, and a link from this tab to
// each. A link's colour says how it was set up (BroadcastChannel or the
// PeerJS server) and its dash whether it is open; a peer's colour says how
// healthy the link is (peer-health.js), and its RTT is written on the link.
// The node reports only its own links, not those between its peers, so
// those are not drawn. A peer that leaves stays, greyed out, for a few
// seconds. Nodes and links are kept by peer id and updated in place, so a
// hover or a fade-in survives the page's refreshes. No library: plain SVG.
import { epochNow, escapeHtml, milliseconds, plural, shortId } from './format.js';
import { setHtml, setText } from './dom.js';
import { HEALTH_LABELS, ROUTE_LABELS, peerHealth, peerRoute } from './peer-health.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const LEFT_SHOWN_MS = 5000; // how long a departed peer stays on the graph
const MAX_LABELLED = 12; // past this many peers, ids are left to the tooltips
const SELF_RADIUS = 17;
const PEER_RADIUS = 12;

function svgElement(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  return el;
}

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    const text = String(value);
    if (el.getAttribute(name) !== text) el.setAttribute(name, text);
  }
}

// The peers sit on an ellipse around this tab, the first on the right; a
// lone peer and this tab share the middle.
function layout(box, count) {
  const cx = box.width / 2;
  const cy = box.height / 2;
  const rx = box.width / 2 - 52;
  const ry = box.height / 2 - 34;
  if (count === 1) return { self: { x: cx - rx / 2, y: cy }, peer: () => ({ x: cx + rx / 2, y: cy, up: false }) };
  const start = count === 2 ? 0 : -Math.PI / 2 + Math.PI / count; // no peer straight above or below
  return {
    self: { x: cx, y: cy },
    peer: (index) => {
      const angle = (index / count) * 2 * Math.PI + start;
      return { x: cx + rx * Math.cos(angle), y: cy + ry * Math.sin(angle), up: Math.sin(angle) < -0.2 };
    },
  };
}

function describePeer(peer, health, now) {
  const parts = [peer.peerId, peer.left ? 'left' : peer.state, ROUTE_LABELS[peerRoute(peer)]];
  if (peer.rttMs !== null) parts.push(`RTT ${milliseconds(peer.rttMs)}`);
  if (peer.lastHeardAt !== null && !peer.left) parts.push(`heard ${Math.max(0, Math.round((now - peer.lastHeardAt) / 100) / 10)} s ago`);
  parts.push(HEALTH_LABELS[health]);
  return parts.join(' · ');
}

// One node: a circle, a label and a tooltip.
function makeNode(radius) {
  const group = svgElement('g', { class: 'graph-node entering' });
  const circle = svgElement('circle', { r: radius });
  const label = svgElement('text', { class: 'graph-label', 'text-anchor': 'middle' });
  const title = svgElement('title');
  group.append(title, circle, label);
  requestAnimationFrame(() => requestAnimationFrame(() => group.classList.remove('entering')));
  return { group, label, title };
}

function makeEdge() {
  const group = svgElement('g', { class: 'graph-edge' });
  const line = svgElement('line');
  const rtt = svgElement('text', { class: 'graph-rtt', 'text-anchor': 'middle' });
  group.append(line, rtt);
  return { group, line, rtt };
}

function renderLegend(list) {
  const routes = Object.entries(ROUTE_LABELS)
    .filter(([route]) => route !== 'unknown')
    .map(([route, text]) => `<li><span class="legend-line route-${route}" aria-hidden="true"></span>${escapeHtml(text)}</li>`);
  const health = Object.entries(HEALTH_LABELS)
    .map(([key, text]) => `<li><span class="legend-dot health-${key}" aria-hidden="true"></span>${escapeHtml(text)}</li>`);
  setHtml(list, [...routes, ...health].join(''));
}

// svg: the <svg> (its viewBox gives the drawing's size); legend: a <ul> for
// the key; summary: an element for a one-line count.
export function createPeerGraph(svg, { legend = null, summary = null } = {}) {
  const box = svg.viewBox.baseVal;
  const edgeLayer = svgElement('g', { class: 'graph-edges' });
  const nodeLayer = svgElement('g', { class: 'graph-nodes' });
  const empty = svgElement('text', { class: 'graph-empty', x: box.width / 2, y: box.height - 12, 'text-anchor': 'middle' });
  svg.append(edgeLayer, nodeLayer, empty);
  const self = makeNode(SELF_RADIUS);
  self.group.classList.add('self');
  const peers = new Map(); // peerId -> {node, edge}
  let seen = new Map(); // peerId -> its PeerInfo at the last render
  const departed = new Map(); // peerId -> {peer, at}
  if (legend) renderLegend(legend);

  // Peers known now, then the departed still shown, sorted by id so that
  // each keeps its place while others come and go.
  function shownPeers(list) {
    const now = Date.now();
    const present = new Map(list.map((p) => [p.peerId, p]));
    for (const [id, peer] of seen) if (!present.has(id) && !departed.has(id)) departed.set(id, { peer, at: now });
    for (const [id, { at }] of departed) if (present.has(id) || now - at > LEFT_SHOWN_MS) departed.delete(id);
    seen = present;
    const gone = [...departed.values()].map(({ peer }) => ({ ...peer, left: true }));
    return [...present.values(), ...gone].sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  function placeSelf(selfId, { x, y }) {
    self.group.style.transform = `translate(${x}px, ${y}px)`;
    setAttrs(self.group, { 'data-peer': selfId });
    setAttrs(self.label, { y: SELF_RADIUS + 13 });
    setText(self.label, 'this tab');
    setText(self.title, `${selfId} (this tab)`);
    if (!self.group.isConnected) nodeLayer.append(self.group);
  }

  function placePeer(peer, from, at, labelled, now) {
    let item = peers.get(peer.peerId);
    if (!item) {
      item = { node: makeNode(PEER_RADIUS), edge: makeEdge() };
      peers.set(peer.peerId, item);
      edgeLayer.append(item.edge.group);
      nodeLayer.append(item.node.group);
    }
    const health = peer.left ? 'left' : peerHealth(peer, now);
    const route = peerRoute(peer);
    const state = peer.left ? 'left' : peer.state;
    const { node, edge } = item;
    node.group.style.transform = `translate(${at.x}px, ${at.y}px)`;
    setAttrs(node.group, { 'data-peer': peer.peerId, 'data-health': health, 'data-state': state });
    setAttrs(node.label, { y: at.up ? -(PEER_RADIUS + 6) : PEER_RADIUS + 13 });
    setText(node.label, labelled ? shortId(peer.peerId) : '');
    setText(node.title, describePeer(peer, health, now));
    setAttrs(edge.group, { 'data-peer': peer.peerId, 'data-route': route, 'data-state': state });
    setAttrs(edge.line, { x1: from.x, y1: from.y, x2: at.x, y2: at.y });
    setAttrs(edge.rtt, { x: (from.x + at.x) / 2, y: (from.y + at.y) / 2 - 5 });
    setText(edge.rtt, state === 'connected' && peer.rttMs !== null ? milliseconds(peer.rttMs) : '');
  }

  // selfId: this node's id, or null while there is none; list: getPeers()
  // (every known peer, whatever its state); [] while the node is stopped.
  function render(selfId, list) {
    if (selfId === null) {
      self.group.remove();
      for (const { node, edge } of peers.values()) {
        node.group.remove();
        edge.group.remove();
      }
      peers.clear();
      seen = new Map();
      departed.clear();
      setText(empty, 'No node yet.');
      if (summary) setText(summary, '—');
      return;
    }
    const now = epochNow();
    const shown = shownPeers(list);
    const places = layout(box, shown.length);
    placeSelf(selfId, places.self);
    const ids = new Set();
    shown.forEach((peer, i) => {
      ids.add(peer.peerId);
      placePeer(peer, places.self, places.peer(i), shown.length <= MAX_LABELLED, now);
    });
    for (const [id, { node, edge }] of peers) {
      if (ids.has(id)) continue;
      node.group.remove();
      edge.group.remove();
      peers.delete(id);
    }
    const open = shown.filter((p) => !p.left && p.state === 'connected').length;
    setAttrs(svg, { 'data-nodes': 1 + shown.length, 'data-links': open });
    setText(empty, shown.length ? '' : 'No peers yet: open another tab in this room.');
    if (summary) setText(summary, shown.length ? `${plural(open, 'link')} open · ${plural(shown.length, 'peer')} shown` : 'this tab alone');
  }

  return { render };
}
