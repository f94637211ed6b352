// NetworkManager: the peers of a node and the application's messages to them.
// Peer records and statistics come from the kernel's PeerTable.
import { toJsonText } from './json-value.js';

function encodeMessage(message, options, where) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object such as {reliable: false}`);
  const reliable = options.reliable ?? true;
  if (typeof reliable !== 'boolean') throw new TypeError(`${where}: options.reliable must be a boolean`);
  if (message instanceof ArrayBuffer) return { bytes: new Uint8Array(message), binary: true, reliable };
  if (ArrayBuffer.isView(message)) {
    return { bytes: new Uint8Array(message.buffer, message.byteOffset, message.byteLength), binary: true, reliable };
  }
  return { text: toJsonText(message, `${where}: message`), binary: false, reliable };
}

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

  // Called by the node for each MessageReceived output of the kernel: a
  // JSON value, or a Uint8Array for a binary message.
  deliverMessage(peerId, message) {
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

  // message: any JSON value, or binary data (ArrayBuffer, a typed array or a
  // DataView), which arrives as a Uint8Array. options.reliable = false sends
  // it on the unordered channel that never retransmits: for high-rate
  // snapshots such as game positions, where a late update is worthless.
  sendToPeer(peerId, message, options = {}) {
    const where = 'sendToPeer(peerId, message, options)';
    if (typeof peerId !== 'string' || peerId === '') throw new TypeError(`${where}: peerId must be a non-empty string`);
    const { bytes, text, binary, reliable } = encodeMessage(message, options, where);
    // A text's length is a lower bound on its UTF-8 size, so the queue never passes the bound by much.
    this.#checkQueue(peerId, binary ? bytes.length : text.length, where);
    const send = (k, size, t) => k.sendMessage(peerId, size, binary, reliable, t);
    const error = binary ? this.#driver.inputBytes(bytes, send) : this.#driver.inputText(text, send);
    if (error) throw new Error(`${where}: ${error}`);
    return true;
  }

  // Sends to every connected peer; returns how many that is.
  broadcast(message, options = {}) {
    const where = 'broadcast(message, options)';
    const { bytes, text, binary, reliable } = encodeMessage(message, options, where);
    const peers = this.getConnectedPeers();
    for (const peer of peers) this.#checkQueue(peer.peerId, binary ? bytes.length : text.length, where);
    const send = (k, size, t) => k.broadcastMessage(size, binary, reliable, t);
    const error = binary ? this.#driver.inputBytes(bytes, send) : this.#driver.inputText(text, send);
    if (error) throw new Error(`${where}: ${error}`);
    return peers.length;
  }

  // Bytes waiting to go to this peer while its channel drains.
  queuedBytes(peerId) {
    return this.#pool.queuedBytes(peerId);
  }

  #checkQueue(peerId, size, where) {
    const queued = this.#pool.queuedBytes(peerId);
    if (queued + size > MAX_QUEUED_BYTES) {
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
