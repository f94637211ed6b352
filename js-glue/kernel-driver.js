// KernelDriver: the one place where JavaScript feeds the C++ kernel. Every
// input carries the current time; after it, the driver drains the kernel's
// outputs, hands each to the host, and arms one timer for the kernel's next
// wake-up. Inputs raised while outputs are being handled (a subscriber that
// writes, say) queue inside the kernel and go out in order.

export function now() {
  return performance.timeOrigin + performance.now();
}

export class KernelDriver {
  #kernel;
  #dispatch;
  #draining = false;
  #timer = null;
  #timerAt = -1;
  #disposed = false;

  constructor(kernel, dispatch) {
    this.#kernel = kernel;
    this.#dispatch = dispatch;
  }

  get kernel() {
    return this.#kernel;
  }

  // Runs fn(kernel, now) and then processes whatever it asked for.
  input(fn) {
    if (this.#disposed) return undefined;
    const result = fn(this.#kernel, now());
    if (!this.#draining) this.#drain();
    return result;
  }

  #drain() {
    this.#draining = true;
    try {
      for (let outputs = this.#kernel.pollOutputs(); outputs.length > 0; outputs = this.#kernel.pollOutputs()) {
        for (const output of outputs) {
          try {
            this.#dispatch(output);
          } catch (error) {
            console.error(`peercompute: handling kernel output '${output.type}' failed`, error);
          }
        }
      }
    } finally {
      this.#draining = false;
    }
    this.#arm();
  }

  #arm() {
    const at = this.#kernel.pollTimeout();
    if (at === this.#timerAt) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = at;
    if (at < 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = -1;
      this.input((k, t) => k.handleTimeout(t));
    }, Math.max(0, at - now()));
  }

  dispose() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#disposed = true;
    this.#kernel.delete();
  }
}
