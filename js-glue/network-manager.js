// NetworkManager: the peers of a node and the application's messages to them.
// Peer records and statistics come from the kernel's PeerTable.
import { toJsonText } from './json-value.js';

// The most a peer's send queue may hold; past it, sending throws rather than
// letting memory grow without bound.
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export class NetworkManager {
  #driver;
  #pool;
  #emitter;
  #handlers = new Set();

  constructor(driver, pool, emitter) {
    this.#driver = driver;
    this.#pool = pool;
    this.#emitter = emitter;
  }

  // Called by the node for each MessageReceived output of the kernel.
  deliverMessage(peerId, jsonText) {
    const message = JSON.parse(jsonText);
    for (const handler of [...this.#handlers]) {
      try {
        handler(peerId, message);
      } catch (error) {
        console.error('peercompute: a message handler threw', error);
      }
    }
    this.#emitter.emit('message', { peerId, message });
  }

  // Every peer this node knows of, whatever its connection state.
  getPeers() {
    return JSON.parse(this.#driver.kernel.peers());
  }

  getConnectedPeers() {
    return this.getPeers().filter((p) => p.state === 'connected');
  }

  sendToPeer(peerId, message) {
    if (typeof peerId !== 'string' || peerId === '') {
      throw new TypeError('sendToPeer(peerId, message): peerId must be a non-empty string');
    }
    const text = toJsonText(message, 'sendToPeer(peerId, message): message');
    this.#checkQueue(peerId, text, 'sendToPeer(peerId, message)');
    const error = this.#driver.input((k, t) => k.sendToPeer(peerId, text, t));
    if (error) throw new Error(`sendToPeer(peerId, message): ${error}`);
    return true;
  }

  broadcast(message) {
    const text = toJsonText(message, 'broadcast(message): message');
    for (const peer of this.getConnectedPeers()) this.#checkQueue(peer.peerId, text, 'broadcast(message)');
    const error = this.#driver.input((k, t) => k.broadcast(text, t));
    if (error) throw new Error(`broadcast(message): ${error}`);
    return this.getConnectedPeers().length;
  }

  // Bytes waiting to go to this peer while its channel drains.
  queuedBytes(peerId) {
    return this.#pool.queuedBytes(peerId);
  }

  #checkQueue(peerId, text, where) {
    const queued = this.#pool.queuedBytes(peerId);
    // text.length is a lower bound on its UTF-8 size, so this never lets the queue pass the bound by much.
    if (queued + text.length > MAX_QUEUED_BYTES) {
      throw new Error(
        `${where}: the send queue to ${peerId} is full (${queued} bytes waiting, limit ${MAX_QUEUED_BYTES}); wait for it to drain`,
      );
    }
  }

  addMessageHandler(handler) {
    if (typeof handler !== 'function') throw new TypeError('addMessageHandler(handler): handler must be a function');
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  removeMessageHandler(handler) {
    return this.#handlers.delete(handler);
  }

  // Sends bytes on a peer's data channel exactly as given, bypassing the
  // kernel's framing. For protocol diagnostics and robustness tests.
  sendRaw(peerId, bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('sendRaw(peerId, bytes): bytes must be a Uint8Array');
    if (!this.#pool.send(peerId, bytes)) throw new Error(`sendRaw(peerId, bytes): no open channel to ${peerId}`);
  }

  getNetworkStats() {
    const status = JSON.parse(this.#driver.kernel.status()).network;
    const peers = this.getPeers();
    return {
      peerId: status.peerId,
      peerCount: status.peerCount,
      knownPeers: status.knownPeers,
      bytesIn: status.bytesIn,
      bytesOut: status.bytesOut,
      messagesIn: status.messagesIn,
      messagesOut: status.messagesOut,
      rejectedFrames: status.rejectedFrames,
      rejectedSignals: status.rejectedSignals,
      lastRejection: status.lastRejection,
      peers,
    };
  }
}
