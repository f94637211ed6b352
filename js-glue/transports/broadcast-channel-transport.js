// The route between same-origin tabs, with no server at all: a
// BroadcastChannel named by the kernel ("peercompute:" + the room's tag).
// Every tab on it hears every message, addressed or not; the kernel drops
// what is not for it.
export class BroadcastChannelTransport {
  static route = 'broadcast-channel';
  #events;
  #channel = null;

  constructor(events) {
    this.#events = events;
  }

  open(url) {
    this.close();
    // A page or runtime without BroadcastChannel has no such route.
    if (typeof BroadcastChannel !== 'function') {
      queueMicrotask(() => this.#events.onClosed());
      return;
    }
    const channel = new BroadcastChannel(url);
    this.#channel = channel;
    channel.onmessage = (event) => {
      if (this.#channel === channel && typeof event.data === 'string') this.#events.onMessage(event.data);
    };
    queueMicrotask(() => this.#channel === channel && this.#events.onOpen());
  }

  // The medium reaches every tab: `to` selects nothing here.
  send(text, _to) {
    this.#channel?.postMessage(text);
  }

  close() {
    this.#channel?.close();
    this.#channel = null;
  }
}
