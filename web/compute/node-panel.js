// This tab: #status, the signaling chip and the #nodeInfo panel.
import { byId, infoRow, setHtml, setText } from '../shared/dom.js';
import { escapeHtml, orDash, shortId } from '../shared/format.js';
import { renderSignalChip } from '../shared/signal-chip.js';
import { serverUrl } from '../shared/signaling-config.js';

function renderStatus(session) {
  let text;
  let cls;
  if (session.phase === 'failed') [text, cls] = ['Error: node did not start', 'status-error'];
  else if (session.phase === 'starting') [text, cls] = ['Starting…', 'status-busy'];
  else if (session.current?.state === 'running') [text, cls] = ['Rendering…', 'status-busy'];
  else if (session.remote?.state === 'running') [text, cls] = [`Helping ${shortId(session.remote.owner)}…`, 'status-busy'];
  else [text, cls] = ['Running', 'status-running'];
  const el = byId('status');
  setText(el, text);
  el.className = `status ${cls}`;
}

// status: the node's, or null when there is no node.
function signalLink(session, status) {
  if (!session.node && session.phase === 'starting') return null;
  if (!session.peerServer) return { url: null, note: session.signalingNote };
  // The kernel's view once the node is initialized; before, the configuration's.
  return status.network.signalingServer ?? { url: serverUrl(session.peerServer), state: 'not started' };
}

function renderNodeInfo(session, status) {
  const c = status?.compute;
  const caps = session.capabilities();
  const connected = session.connectedIds();
  // A peer counts once it advertised its workers.
  const roomWorkers = caps && connected.reduce((n, id) => n + (caps.peers[id]?.workers ?? 0), caps.workers);
  const html = [
    infoRow('Node ID:', escapeHtml(session.node?.nodeId ?? '—')),
    infoRow('Room:', escapeHtml(session.roomId)),
    infoRow('Node:', session.phase === 'failed' ? `<span class="bad">${escapeHtml(session.bootError)}</span>` : session.phase),
    infoRow('Connected peers:', `<span id="peerCount">${connected.length}</span>`),
    infoRow('Workers:', caps ? `${caps.workers} <span class="muted">${caps.usesWebWorkers ? 'Web Workers' : 'inline'}</span>` : orDash(c?.workers)),
    infoRow('Room workers:', orDash(roomWorkers)),
    '<div class="section">Compute (this tab)</div>',
    infoRow('Queued:', orDash(c?.queued)),
    infoRow('Running:', orDash(c?.running)),
    infoRow('Completed:', orDash(c?.completed)),
    infoRow('Active jobs:', orDash(c?.activeJobs)),
    infoRow('Rejected results:', `<span class="${c?.rejectedResults ? 'bad' : ''}">${orDash(c?.rejectedResults)}</span>`),
    '<div class="section">Renders</div>',
    infoRow('Last image hash:', orDash(session.lastHash)),
    infoRow('Retries:', orDash(session.current?.stats?.retries)),
  ].join('\n');
  setHtml(byId('nodeInfo'), html);
}

export function renderNodePanel(session) {
  const status = session.node?.getStatus() ?? null;
  renderStatus(session);
  renderSignalChip(byId('signalChip'), signalLink(session, status));
  renderNodeInfo(session, status);
}
