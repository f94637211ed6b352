// One RTCPeerConnection per peer, with two data channels: a reliable ordered
// one that carries every frame, and an unordered one that never retransmits,
// for messages sent with {reliable: false}. Opened and closed when the kernel
// says so. SDP and ICE go out through onLocalSignal as opaque JSON
// for the kernel to route; what the peer sends back arrives via deliver().

const CHANNEL_LABEL = 'peercompute';
const UNRELIABLE_LABEL = 'peercompute-unreliable';

// Backpressure: a channel is given at most HIGH_WATER bytes beyond what it
// has sent, the rest waits here and goes as the channel drains below
// LOW_WATER. Chromium refuses a send that would buffer over 16 MB.
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

// The most a peer's send queue may hold. Every send the pool queues counts:
// the kernel's frames (state sync, presence, compute) as well as the app's
// messages. A send that would take the queue past it is dropped, and the
// connection is reported once through onOverflow: the peer has stopped
// reading, and a reliable stream with a frame missing is of no more use.
// (NetworkManager checks an app's message against it first, and throws.)
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export class PeerConnectionPool {
  #iceServers;
  #events;
  #host;
  #peers = new Map(); // peerId -> {pc, channel, unreliable, pendingCandidates, remoteSet, queue, queuedBytes, overflowed}

  // events: {onLocalSignal(peerId, json), onOpen(peerId), onClose(peerId),
  // onData(peerId, Uint8Array, unreliable), onOverflow(peerId)}. onOverflow is
  // called at most once per connection, after the send that overflowed.
  // host: where RTCPeerConnection comes from, read at each open(): the page
  // itself in a browser; in Node.js, node-datachannel's polyfill, which the
  // node puts there on start() (environment.js, webrtc/node-webrtc.js).
  constructor({ iceServers = [], events, host = globalThis }) {
    this.#iceServers = iceServers;
    this.#events = events;
    this.#host = host;
  }

  open(peerId, initiator) {
    this.close(peerId);
    let pc;
    try {
      pc = new this.#host.RTCPeerConnection({ iceServers: this.#iceServers });
    } catch (error) {
      // Chromium refuses past 500 connections in a page's lifetime ("Cannot
      // create so many PeerConnections"). The kernel hears that this one
      // closed, so it does not wait out its connect timeout, and dials
      // again after its backoff.
      console.warn(`peercompute: WebRTC failed while creating the connection for ${peerId}:`, error);
      queueMicrotask(() => {
        if (!this.#peers.has(peerId)) this.#events.onClose(peerId);
      });
      return;
    }
    const entry = { pc, channel: null, unreliable: null, pendingCandidates: [], remoteSet: false, queue: [], queuedBytes: 0, overflowed: false };
    this.#peers.set(peerId, entry);
    const current = () => this.#peers.get(peerId) === entry;

    pc.onicecandidate = (event) => {
      if (current() && event.candidate) this.#signal(peerId, { candidate: event.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      if (current() && (pc.connectionState === 'failed' || pc.connectionState === 'closed')) this.#lost(peerId, entry);
    };

    if (initiator) {
      this.#attach(peerId, entry, pc.createDataChannel(CHANNEL_LABEL, { ordered: true }));
      this.#attachUnreliable(peerId, entry, pc.createDataChannel(UNRELIABLE_LABEL, { ordered: false, maxRetransmits: 0 }));
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer))
        .then(() => current() && this.#signal(peerId, { sdp: pc.localDescription.toJSON() }))
        .catch((error) => this.#failed(peerId, entry, 'creating the offer', error));
    } else {
      pc.ondatachannel = (event) => {
        if (!current()) return;
        if (event.channel.label === CHANNEL_LABEL) this.#attach(peerId, entry, event.channel);
        else if (event.channel.label === UNRELIABLE_LABEL) this.#attachUnreliable(peerId, entry, event.channel);
      };
    }
  }

  async deliver(peerId, dataText) {
    const entry = this.#peers.get(peerId);
    if (!entry) return;
    let data;
    try {
      data = JSON.parse(dataText);
    } catch {
      return;
    }
    const { pc } = entry;
    try {
      if (data.sdp) {
        await pc.setRemoteDescription(data.sdp);
        entry.remoteSet = true;
        if (data.sdp.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          if (this.#peers.get(peerId) === entry) this.#signal(peerId, { sdp: pc.localDescription.toJSON() });
        }
        for (const candidate of entry.pendingCandidates.splice(0)) await pc.addIceCandidate(candidate);
      } else if (data.candidate) {
        if (entry.remoteSet) await pc.addIceCandidate(data.candidate);
        else entry.pendingCandidates.push(data.candidate);
      }
    } catch (error) {
      this.#failed(peerId, entry, 'applying a remote description', error);
    }
  }

  // False when the bytes were not sent nor queued: no open channel, or the
  // queue would pass MAX_QUEUED_BYTES (then onOverflow follows).
  send(peerId, bytes, unreliable = false) {
    const entry = this.#peers.get(peerId);
    if (unreliable && entry?.unreliable?.readyState === 'open') {
      // Nothing queues here: when the channel is backed up, an unreliable
      // message is dropped, as the network might have dropped it.
      if (entry.unreliable.bufferedAmount + bytes.length <= HIGH_WATER) entry.unreliable.send(bytes);
      return true;
    }
    const channel = entry?.channel;
    if (!channel || (channel.readyState !== 'open' && channel.readyState !== 'connecting')) return false;
    // Once a frame is dropped the stream is broken: nothing more goes to it.
    if (entry.overflowed) return false;
    // A channel still 'connecting' queues: the answering side may have its
    // peer's first message (which tells the kernel the channel is open)
    // before the channel's own open event, and its Hello must not be lost.
    if (channel.readyState === 'open' && entry.queue.length === 0 && channel.bufferedAmount + bytes.length <= HIGH_WATER) {
      channel.send(bytes);
    } else if (entry.queuedBytes + bytes.length > MAX_QUEUED_BYTES) {
      this.#overflow(peerId, entry);
      return false;
    } else {
      entry.queue.push(bytes);
      entry.queuedBytes += bytes.length;
    }
    return true;
  }

  // Bytes waiting for the channel to drain.
  queuedBytes(peerId) {
    return this.#peers.get(peerId)?.queuedBytes ?? 0;
  }

  #drain(entry) {
    const { channel, queue } = entry;
    while (queue.length > 0 && channel.readyState === 'open' && channel.bufferedAmount + queue[0].length <= HIGH_WATER) {
      const bytes = queue.shift();
      entry.queuedBytes -= bytes.length;
      channel.send(bytes);
    }
  }

  // The raw data channel, for diagnostics and protocol tests.
  channel(peerId) {
    return this.#peers.get(peerId)?.channel ?? null;
  }

  close(peerId) {
    const entry = this.#peers.get(peerId);
    if (!entry) return;
    this.#peers.delete(peerId);
    entry.channel?.close();
    entry.unreliable?.close();
    entry.pc.close();
  }

  closeAll() {
    for (const peerId of [...this.#peers.keys()]) this.close(peerId);
  }

  #attach(peerId, entry, channel) {
    entry.channel = channel;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    const current = () => this.#peers.get(peerId) === entry;
    channel.onbufferedamountlow = () => current() && this.#drain(entry);
    channel.onopen = () => {
      if (!current()) return;
      this.#drain(entry);
      this.#events.onOpen(peerId);
    };
    channel.onclose = () => current() && this.#lost(peerId, entry);
    channel.onmessage = (event) => {
      if (!current()) return;
      const bytes = typeof event.data === 'string' ? new TextEncoder().encode(event.data) : new Uint8Array(event.data);
      this.#events.onData(peerId, bytes);
    };
  }

  #attachUnreliable(peerId, entry, channel) {
    entry.unreliable = channel;
    channel.binaryType = 'arraybuffer';
    channel.onmessage = (event) => {
      if (this.#peers.get(peerId) !== entry || typeof event.data === 'string') return;
      this.#events.onData(peerId, new Uint8Array(event.data), true);
    };
  }

  #overflow(peerId, entry) {
    entry.overflowed = true;
    // The queue is of no more use; the kernel closes the connection in answer.
    entry.queue = [];
    entry.queuedBytes = 0;
    // After the output being handled, not inside it: the event feeds the kernel.
    queueMicrotask(() => {
      if (this.#peers.get(peerId) === entry) this.#events.onOverflow?.(peerId);
    });
  }

  #signal(peerId, payload) {
    this.#events.onLocalSignal(peerId, JSON.stringify(payload));
  }

  #lost(peerId, entry) {
    if (this.#peers.get(peerId) !== entry) return;
    this.close(peerId);
    this.#events.onClose(peerId);
  }

  #failed(peerId, entry, what, error) {
    if (this.#peers.get(peerId) !== entry) return;
    console.warn(`peercompute: WebRTC failed while ${what} for ${peerId}:`, error);
    this.#lost(peerId, entry);
  }
}
