// Signaling between same-origin tabs with no server at all. Every tab in the
// room hears every message; the kernel ignores what is not for it.
export class BroadcastChannelTransport {
  name = 'broadcast-channel';
  #channelName;
  #channel = null;

  constructor(roomId) {
    this.#channelName = `peercompute:${roomId}`;
  }

  static isAvailable() {
    return typeof BroadcastChannel === 'function';
  }

  async start(onSignal) {
    if (this.#channel) return;
    this.#channel = new BroadcastChannel(this.#channelName);
    this.#channel.onmessage = (event) => {
      if (typeof event.data === 'string') onSignal(event.data);
    };
  }

  send(text) {
    this.#channel?.postMessage(text);
  }

  stop() {
    this.#channel?.close();
    this.#channel = null;
  }
}
