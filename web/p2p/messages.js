// Direct and broadcast messages (#msgForm), and the log lines of those received.
import { byId } from '../shared/dom.js';
import { escapeHtml, jsonPreview, parseJsonOrText, plural } from '../shared/format.js';
import { log } from './event-log.js';

const RECEIVED_LOG_PER_SECOND = 5; // beyond this, received messages are counted, not logged

function describeBytes(bytes) {
  const head = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.byteLength} bytes [${head}${bytes.byteLength > 16 ? ' …' : ''}]`;
}

// positions: binary messages go to positions.receive() first.
export function createMessages(session, positions) {
  const select = byId('msgTarget');
  let targetIds = '';

  // Rebuilding the <select> every tick would reset the user's choice, so it
  // is rebuilt only when the set of connected peers changes.
  function setTargets(ids) {
    const key = ids.join('\n');
    if (key === targetIds) return;
    targetIds = key;
    const previous = select.value;
    select.innerHTML = ['<option value="*">Everyone (broadcast)</option>']
      .concat(ids.map((id) => `<option value="${escapeHtml(id)}">${escapeHtml(id)}</option>`))
      .join('');
    select.value = ids.includes(previous) ? previous : '*';
  }

  function selectTarget(peerId) {
    if ([...select.options].some((o) => o.value === peerId)) select.value = peerId;
    byId('msgText').focus();
  }

  byId('msgForm').addEventListener('submit', (e) => {
    e.preventDefault();
    const raw = byId('msgText').value;
    if (!raw.trim()) {
      log('Send: type a message first', 'warn');
      return;
    }
    const network = session.networkManager;
    if (!network) {
      log('Send failed: no network manager (initialize and start the node first)', 'error');
      return;
    }
    // A typed envelope tells demo chatter apart from other applications' messages.
    const message = { type: 'demo-message', payload: parseJsonOrText(raw), sentAt: Date.now() };
    const target = select.value;
    try {
      if (target === '*') {
        const count = network.broadcast(message);
        log(`Broadcast to ${plural(count, 'peer')}: ${jsonPreview(message.payload)}`, 'message');
      } else {
        network.sendToPeer(target, message);
        log(`Sent to ${target}: ${jsonPreview(message.payload)}`, 'message');
      }
      byId('msgText').value = '';
    } catch (err) {
      log(`Send failed: ${err.message}`, 'error');
    }
  });

  // Received messages are logged at most RECEIVED_LOG_PER_SECOND a second;
  // the rest are counted per peer and summed up when the second is over.
  const received = { windowStart: 0, logged: 0, dropped: new Map(), timer: null };

  function logReceived(peerId, text) {
    const now = Date.now();
    if (now - received.windowStart >= 1000) {
      flushReceived();
      received.windowStart = now;
      received.logged = 0;
    }
    if (received.logged < RECEIVED_LOG_PER_SECOND) {
      received.logged += 1;
      log(text, 'message');
      return;
    }
    received.dropped.set(peerId, (received.dropped.get(peerId) ?? 0) + 1);
    received.timer ??= setTimeout(flushReceived, 1000 - (now - received.windowStart));
  }

  function flushReceived() {
    clearTimeout(received.timer);
    received.timer = null;
    if (!received.dropped.size) return;
    const counts = [...received.dropped];
    received.dropped.clear();
    const total = counts.reduce((sum, [, n]) => sum + n, 0);
    const from = counts.map(([peerId, n]) => `${n} from ${peerId}`).join(', ');
    log(`… ${total} more received message${total === 1 ? '' : 's'} not shown (${from}): the log shows at most ${RECEIVED_LOG_PER_SECOND} a second`, 'message');
  }

  function watch(node) {
    node.on('message', ({ peerId, message }) => {
      if (message instanceof Uint8Array) {
        if (!positions.receive(peerId, message)) logReceived(peerId, `Binary message from ${peerId}: ${describeBytes(message)}`);
        return;
      }
      const body = message?.type === 'demo-message' ? message.payload : message;
      logReceived(peerId, `Message from ${peerId}: ${jsonPreview(body)}`);
    });
  }

  return { setTargets, selectTarget, watch };
}
