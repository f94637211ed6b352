// The I/O for a PeerJS signaling server: one WebSocket and the peer listing.
// It knows nothing of the protocol; the kernel (wasm/signaling/
// peer_server_link.h) decides when to connect, what to send and what the
// server's messages mean.
//
// events: {onOpen(), onMessage(text), onClosed(), onListing(ok, text)}
export class PeerServerSocket {
  name = 'peerjs-server';
  #events;
  #socket = null;

  constructor(events) {
    this.#events = events;
  }

  connect(url) {
    this.close();
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      console.warn(`peercompute: cannot open the signaling server socket ${url}:`, error);
      queueMicrotask(() => this.#events.onClosed());
      return;
    }
    this.#socket = socket;
    const current = () => this.#socket === socket;
    let closed = false;
    const lost = () => {
      if (closed || !current()) return;
      closed = true;
      this.#socket = null;
      this.#events.onClosed();
    };
    socket.onopen = () => current() && this.#events.onOpen();
    socket.onmessage = (event) => {
      if (current() && typeof event.data === 'string') this.#events.onMessage(event.data);
    };
    socket.onclose = lost;
    socket.onerror = lost;
  }

  send(text) {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(text);
  }

  close() {
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  }

  // Fetches the server's list of registered ids (its allow_discovery option).
  list(url) {
    fetch(url, { cache: 'no-store' })
      .then(async (response) => this.#events.onListing(response.ok, response.ok ? await response.text() : ''))
      .catch(() => this.#events.onListing(false, ''));
  }

  get connected() {
    return this.#socket?.readyState === WebSocket.OPEN;
  }
}
