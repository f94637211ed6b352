// The live peer table (#peerTable) and the log lines of peers coming and going.
import { byId, setHtml, setText } from '../shared/dom.js';
import { ago, bytes, escapeHtml, milliseconds, since } from '../shared/format.js';
import { log } from './event-log.js';
import { transportLabel } from './signaling-view.js';

const STATE_BADGES = { discovered: 'badge-info', connecting: 'badge-warn', handshaking: 'badge-warn', connected: 'badge-ok' };

// positionRate(peerId): the peer's position snapshots per second as text, or
// null. onPick(peerId): a row was clicked.
export function createPeerTable(session, { positionRate, onPick }) {
  byId('peerTableBody').addEventListener('click', (e) => {
    const row = e.target.closest('tr[data-peer]');
    if (row) onPick(row.dataset.peer);
  });

  function watch(node, refresh) {
    node.on('peer-connected', ({ peerId }) => {
      log(`Peer connected: ${peerId}`, 'success');
      refresh();
    });
    node.on('peer-disconnected', ({ peerId, reason }) => {
      log(`Peer disconnected: ${peerId} (${reason})`, 'warn');
      refresh();
    });
  }

  function passwordCell(verified) {
    if (session.room.password === null) return '<span class="muted" title="This room has no password">—</span>';
    return verified
      ? '<span class="badge badge-ok" title="The peer proved it knows the room password">verified</span>'
      : '<span class="badge badge-warn" title="The peer has not proved the room password yet">pending</span>';
  }

  // data-label names each cell in the phone layout, where the table is a list of cards.
  function row(p) {
    const connected = p.state === 'connected';
    const rate = positionRate(p.peerId);
    return `<tr class="clickable" data-peer="${escapeHtml(p.peerId)}" title="Click to message this peer">
        <td class="id" data-label="Peer ID">${escapeHtml(p.peerId)}</td>
        <td data-label="State"><span class="badge ${STATE_BADGES[p.state]}">${p.state}</span><span class="sub">${p.transport}${connected ? ` · up ${since(p.connectedAt)}` : ''}</span></td>
        <td class="nowrap" data-label="Signaling">${p.signaling === null ? '—' : transportLabel(p.signaling)}</td>
        <td data-label="Password">${passwordCell(p.passwordVerified)}</td>
        <td class="num" data-label="RTT">${p.rttMs === null ? '—' : milliseconds(p.rttMs)}</td>
        <td class="num" data-label="In">${bytes(p.bytesIn)}<span class="sub">${p.messagesIn} msgs</span></td>
        <td class="num" data-label="Out">${bytes(p.bytesOut)}<span class="sub">${p.messagesOut} msgs</span></td>
        <td class="num" data-label="Pos/s">${rate ?? '—'}</td>
        <td class="num${p.rejected ? ' bad' : ''}" data-label="Rejected">${p.rejected}</td>
        <td class="num" data-label="Heard">${ago(p.lastHeardAt)}</td>
      </tr>`;
  }

  function emptyRow() {
    const { roomId, gameId, password } = session.room;
    return `<tr class="empty"><td colspan="10">No peers yet. Open this page in another tab or browser with room "${escapeHtml(roomId)}"${gameId === null ? '' : ` and game "${escapeHtml(gameId)}"`}${password === null ? '' : ' and the same password'}.</td></tr>`;
  }

  // peerList: getPeers(), every known peer. Returns the ids of the connected ones.
  function render(peerList) {
    const peers = [...peerList].sort((a, b) => a.peerId.localeCompare(b.peerId));
    const connected = peers.filter((p) => p.state === 'connected').map((p) => p.peerId);
    setText(byId('peerSummary'), `${connected.length} connected · ${peers.length} known`);
    setHtml(byId('peerTableBody'), peers.length ? peers.map(row).join('') : emptyRow());
    return connected;
  }

  return { watch, render };
}
