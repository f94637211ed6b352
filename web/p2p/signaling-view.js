// What the page shows of the PeerJS signaling server: the header chip, its
// rows in #nodeInfo, and log lines when it registers, drops or errs.
import { byId, infoRow } from '../shared/dom.js';
import { escapeHtml, orDash, plural, truncate } from '../shared/format.js';
import { renderSignalChip } from '../shared/signal-chip.js';
import { serverUrl } from '../shared/signaling-config.js';
import { log } from './event-log.js';

const TRANSPORT_LABELS = { 'broadcast-channel': 'BroadcastChannel', 'peerjs-server': 'PeerJS server' };

export function transportLabel(name) {
  return TRANSPORT_LABELS[name] ?? name;
}

const BADGES = { registered: 'badge-ok', connecting: 'badge-warn', 'awaiting-open': 'badge-warn', reconnecting: 'badge-err' };

export function createSignalingView(session) {
  let logged = { state: null, lastError: null };

  // The kernel's view of the server once the node is initialized; before, the configuration's.
  function link(status) {
    const live = status.network.signalingServer;
    return live ?? { url: serverUrl(session.peerServer), state: 'not started', serverId: '', lastError: null };
  }

  function logChoice() {
    if (session.peerServer) {
      log(`Signaling: BroadcastChannel (tabs of this browser) and the PeerJS server ${serverUrl(session.peerServer)} (other browsers and devices).`);
    } else {
      log(`Signaling: BroadcastChannel only (${session.signalingNote}); only tabs of this browser can meet.`, 'warn');
    }
  }

  // status: the node's, or null when there is no node.
  function renderChip(status) {
    let view;
    if (session.booting) view = null;
    else if (!session.peerServer) view = { url: null, note: session.signalingNote };
    else view = link(status);
    renderSignalChip(byId('signalChip'), view);
  }

  // Logs the moments that matter: registered, lost, and each new error. The
  // 500 ms poll can miss a state that lasted less, which is fine for a log.
  function logChanges(status) {
    if (!session.peerServer) return;
    const { url, state, serverId, lastError } = link(status);
    if (state !== logged.state) {
      if (state === 'registered') log(`Signaling server ${url}: registered as ${serverId}`, 'success');
      else if (state === 'reconnecting') log(`Signaling server ${url}: connection lost, reconnecting${lastError ? ` (${lastError})` : ''}`, 'warn');
    }
    if (lastError && lastError !== logged.lastError && state !== 'reconnecting') log(`Signaling server error: ${lastError}`, 'warn');
    logged = { state, lastError };
  }

  function rows(status) {
    if (!session.peerServer) {
      return [infoRow('Server:', `<span class="muted">none — BroadcastChannel only (${escapeHtml(session.signalingNote)})</span>`)];
    }
    const live = status.network.signalingServer;
    const { url, state, serverId, lastError } = link(status);
    return [
      infoRow('Server:', escapeHtml(url)),
      infoRow('Server state:', `<span class="badge ${BADGES[state] ?? ''}">${escapeHtml(state)}</span>`),
      infoRow('Registered ID:', serverId
        ? `${escapeHtml(serverId)}${state === 'registered' ? '' : ' <span class="muted">(not registered)</span>'}`
        : '—'),
      infoRow('Room members:', live ? `${plural(live.roomMembers, 'other')} listed` : '—'),
      infoRow('Reconnects:', `${orDash(live?.reconnects)}${live?.idTaken ? ` <span class="bad">· id taken ${live.idTaken}×</span>` : ''}`),
      infoRow('Last error:', lastError ? `<span class="bad">${escapeHtml(truncate(lastError, 160))}</span>` : '—'),
    ];
  }

  return { logChoice, renderChip, logChanges, rows };
}
