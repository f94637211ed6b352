// NetworkManager: the peers of a node and the application's messages to them.
// Peer records and statistics come from the kernel's PeerTable.
import { toJsonText, utf8Length } from './json-value.js';
import { MAX_QUEUED_BYTES } from './webrtc/peer-connection-pool.js';

// The bound lives with the send queue it bounds; exported here too, as before.
export { MAX_QUEUED_BYTES };

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

// What a message of `size` bytes may take in a send queue once framed: the
// frame header, and a Fragment header for every piece of at most 64 KiB.
function framedBound(size) {
  return size + 64 * (2 + Math.ceil(size / 32_768));
}

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
    this.#checkQueue(peerId, bytes ?? text, where);
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
    for (const peer of peers) this.#checkQueue(peer.peerId, bytes ?? text, where);
    const send = (k, size, t) => k.broadcastMessage(size, binary, reliable, t);
    const error = binary ? this.#driver.inputBytes(bytes, send) : this.#driver.inputText(text, send);
    if (error) throw new Error(`${where}: ${error}`);
    return peers.length;
  }

  // Bytes waiting to go to this peer while its channel drains.
  queuedBytes(peerId) {
    return this.#pool.queuedBytes(peerId);
  }

  // Throws before a message (bytes, or JSON text) could take the peer's send
  // queue past its bound: there the pool would drop it and the kernel give
  // the connection up, whereas the app can wait for the queue to drain.
  #checkQueue(peerId, payload, where) {
    const queued = this.#pool.queuedBytes(peerId);
    if (queued === 0 && payload.length <= 1024) return; // the common case
    let size = payload.length;
    // A text's UTF-8 size is at most 3 bytes a UTF-16 unit; counted exactly only near the bound.
    if (typeof payload === 'string' && queued + framedBound(3 * size) > MAX_QUEUED_BYTES) size = utf8Length(payload);
    if (queued + framedBound(size) > MAX_QUEUED_BYTES) {
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
    const where = 'sendRaw(peerId, bytes)';
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: bytes must be a Uint8Array`);
    this.#checkQueue(peerId, bytes, where);
    if (!this.#pool.send(peerId, bytes)) throw new Error(`${where}: no open channel to ${peerId}`);
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
