// The route through a PeerJS signaling server: one WebSocket and the
// server's listing of registered ids. It knows nothing of the protocol; the
// kernel (wasm/signaling/peer_server_link.h) decides when to connect, what to
// send and what the server's messages mean.
// WebSocket.OPEN, the same in the browser's and in ws's.
const OPEN = 1;

export class PeerServerSocket {
  static route = 'peerjs-server';
  #events;
  #host;
  #socket = null;

  // host: where the WebSocket class comes from, read at each open(): the page
  // itself in a browser; in Node.js the node's start() puts Node's own
  // WebSocket or ws's there (transports/node-websocket.js).
  constructor(events, host = globalThis) {
    this.#events = events;
    this.#host = host;
  }

  open(url) {
    this.close();
    let socket;
    try {
      socket = new this.#host.WebSocket(url);
    } catch (error) {
      console.warn(`peercompute: cannot open the signaling server socket ${url}:`, error);
      queueMicrotask(() => this.#events.onClosed());
      return;
    }
    this.#socket = socket;
    const current = () => this.#socket === socket;
    const lost = () => {
      if (!current()) return;
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

  // `to` repeats the dst inside the PeerJS message, which is what the server reads.
  send(text, _to) {
    if (this.#socket?.readyState === OPEN) this.#socket.send(text);
  }

  close() {
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= OPEN) socket.close();
  }

  // Fetches the server's list of registered ids (its allow_discovery option).
  list(url) {
    fetch(url, { cache: 'no-store' })
      .then(async (response) => this.#events.onListing(response.ok, response.ok ? await response.text() : ''))
      .catch(() => this.#events.onListing(false, ''));
  }
}
