// A small event emitter. A listener that throws is reported and does not stop
// the others, nor the kernel's processing that raised the event.
export class EventEmitter {
  #listeners = new Map();

  on(event, listener) {
    if (typeof event !== 'string' || event === '') throw new TypeError('on(event, listener): event must be a non-empty string');
    if (typeof listener !== 'function') throw new TypeError('on(event, listener): listener must be a function');
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.off(event, listener);
  }

  off(event, listener) {
    this.#listeners.get(event)?.delete(listener);
  }

  emit(event, ...args) {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`peercompute: a '${event}' listener threw`, error);
      }
    }
  }

  listenerCount(event) {
    return this.#listeners.get(event)?.size ?? 0;
  }
}
