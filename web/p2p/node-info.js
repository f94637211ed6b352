// The #nodeInfo panel: the node's status and metrics. The original suite
// reads its labels ("Peer ID:", "Peers:", "Connected:"); tests also read
// "Keys:", "hasPersistence" and "hasP2PSync".
import { byId, infoRow, setHtml, setText } from '../shared/dom.js';
import { bytes, duration, epochNow, escapeHtml, orDash, plural, truncate } from '../shared/format.js';
import { transportLabel } from './signaling-view.js';

const flag = (on) => `<span class="flag flag-${on}">${on}</span>`;
const muted = (text) => `<span class="muted">${text}</span>`;

// signalingRows: the signaling server's rows, from signaling-view.js.
export function renderNodeInfo(session, status, signalingRows) {
  const { room } = session;
  const { network: net, state, compute } = status;
  const peers = Object.keys(net.connectionStates).filter((id) => net.connectionStates[id] === 'connected');
  const rejected = (net.rejectedFrames ?? 0) + (net.rejectedSignals ?? 0);
  const html = [
    infoRow('Node ID:', escapeHtml(status.nodeId)),
    infoRow('Room:', escapeHtml(status.roomId)),
    infoRow('Game:', room.gameId === null ? muted('none') : escapeHtml(room.gameId)),
    infoRow('Password:', room.password === null ? muted('none') : `protected ${muted(`(${escapeHtml(room.passwordSource)})`)}`),
    infoRow('Topology:', escapeHtml(status.topology)),
    infoRow('isInitialized:', flag(status.isInitialized)),
    infoRow('isStarted:', flag(status.isStarted)),
    infoRow('Uptime:', status.startedAt === null ? '—' : duration(epochNow() - status.startedAt)),
    '<div class="section">Network</div>',
    infoRow('Peer ID:', escapeHtml(net.peerId)),
    infoRow('Peers:', peers.length ? peers.map((id) => `<span class="peer-chip">${escapeHtml(id)}</span>`).join(' ') : muted('none')),
    infoRow('Connected:', flag(net.isConnected)),
    infoRow('Peer count:', String(net.peerCount)),
    infoRow('Known peers:', String(net.knownPeers)),
    infoRow('Traffic in:', `${orDash(net.bytesIn, bytes)} · ${orDash(net.messagesIn)} msgs`),
    infoRow('Traffic out:', `${orDash(net.bytesOut, bytes)} · ${orDash(net.messagesOut)} msgs`),
    infoRow('Rejected:', `<span class="${rejected ? 'bad' : ''}">${orDash(net.rejectedFrames)} frames · ${orDash(net.rejectedSignals)} signals</span>`),
    infoRow('Last rejection:', orDash(net.lastRejection, (text) => escapeHtml(truncate(text, 160)))),
    '<div class="section">Signaling</div>',
    infoRow('Transports:', net.transports?.length
      ? net.transports.map((t) => `<span class="tag-chip">${escapeHtml(transportLabel(t))}</span>`).join(' ')
      : muted('none yet (set up by Start)')),
    ...signalingRows,
    '<div class="section">State</div>',
    infoRow('Keys:', String(state.keyCount)),
    infoRow('Tombstones:', orDash(state.tombstones)),
    infoRow('hasPersistence:', flag(state.hasPersistence)),
    infoRow('hasP2PSync:', flag(state.hasP2PSync)),
    '<div class="section">Compute</div>',
    infoRow('Enabled:', flag(compute.enabled)),
    infoRow('Available:', flag(compute.available)),
  ].join('\n');
  setHtml(byId('nodeInfo'), html);
}

// The Node card's three lines (#nodeSummary); status is null without a node.
export function renderNodeSummary(status) {
  const net = status?.network;
  setText(byId('summaryNode'), status?.nodeId ?? '—');
  setText(byId('summaryPeers'), net ? `${net.peerCount} connected · ${net.knownPeers} known` : '—');
  setText(byId('summaryKeys'), status ? plural(status.state.keyCount, 'key') : '—');
}
