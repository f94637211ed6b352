// KernelDriver: the one place where JavaScript feeds the C++ kernel. Every
// input carries the current time; after it, the driver takes the kernel's
// outputs in one crossing, hands each to the adapter that serves its type
// (host-adapters.js), and keeps one timer armed no later than the kernel's
// next wake-up.
// Inputs raised while outputs are being handled (a subscriber that writes,
// say) queue inside the kernel and go out in order.
//
// ./host/ holds the host interface's JS end, which scripts/build.sh generates
// into dist/host/ from wasm/host/host_interface.json: it exists in dist/ only.
import { KernelOutputDecoder, OUTPUT_TYPES } from './host/output-decoder.js';
import { writeUtf8 } from './host/input-batches.js';

const timeOrigin = performance.timeOrigin;

export function now() {
  return timeOrigin + performance.now();
}

export class KernelDriver {
  #core;
  #kernel;
  #adapters = new Map(); // output type -> its handler
  #decoder = new KernelOutputDecoder();
  #draining = false;
  #drainNow = 0; // the time of the input whose outputs are being handled
  #inputDuringDrain = false;
  #timer = null;
  #timerAt = -1;
  #inboxPtr = 0;
  #inboxSize = 0;
  #beforeInput = null;

  constructor(core, kernel) {
    this.#core = core;
    this.#kernel = kernel;
  }

  // Registers an adapter: {type: handler(output)} for the output types it
  // serves. A type the host interface does not have, or one already served,
  // is a wiring mistake and throws.
  serve(adapter) {
    for (const [type, handler] of Object.entries(adapter)) {
      if (!OUTPUT_TYPES.includes(type)) throw new Error(`KernelDriver.serve(): the kernel has no output of type '${type}'`);
      if (this.#adapters.has(type)) throw new Error(`KernelDriver.serve(): output type '${type}' is already served`);
      this.#adapters.set(type, handler);
    }
  }

  // Throws unless every output type of the host interface has an adapter.
  requireEveryOutputServed() {
    const missing = OUTPUT_TYPES.filter((type) => !this.#adapters.has(type));
    if (missing.length > 0) throw new Error(`KernelDriver: no adapter serves the kernel's ${missing.map((t) => `'${t}'`).join(', ')} outputs`);
  }

  get kernel() {
    return this.#kernel;
  }

  // Runs before every input: the state manager commits the operations it
  // queued, so the kernel sees them before anything that came after them.
  setBeforeInput(fn) {
    this.#beforeInput = fn;
  }

  // Runs fn(kernel, now) and then processes whatever it asked for. An input
  // raised while outputs are handled (a message handler that replies, say)
  // happens in the same task as the input being drained, so it carries that
  // input's time rather than reading the clock again.
  input(fn) {
    this.#beforeInput?.();
    const result = fn(this.#kernel, this.#draining ? this.#drainNow : (this.#drainNow = now()));
    if (this.#draining) this.#inputDuringDrain = true;
    else this.#drain();
    return result;
  }

  // Bytes from a peer's channel, copied straight into wasm memory.
  inputData(peerId, bytes, unreliable = false) {
    const handle = this.#decoder.handleOf(peerId);
    if (handle === 0) return;
    this.inputBytes(bytes, (k, size, t) => k.handleData(handle, size, unreliable, t));
  }

  // Copies bytes into the kernel's input buffer, then runs fn(kernel, size, now).
  inputBytes(bytes, fn) {
    return this.input((k, t) => {
      const { ptr, heap } = this.reserveInput(bytes.length);
      heap.set(bytes, ptr);
      return fn(k, bytes.length, t);
    });
  }

  // Writes a batch straight into the kernel's input buffer: `bound` bytes of
  // room, write(heap, at) returns where the batch ends; then runs
  // fn(kernel, size, now).
  inputBatch(bound, write, fn) {
    return this.input((k, t) => {
      const { ptr, heap } = this.reserveInput(bound);
      return fn(k, write(heap, ptr) - ptr, t);
    });
  }

  // Encodes text as UTF-8 straight into the kernel's input buffer (no
  // intermediate array), then runs fn(kernel, size, now).
  inputText(text, fn) {
    return this.input((k, t) => {
      const { ptr, heap } = this.reserveInput(text.length * 3);
      return fn(k, writeUtf8(heap, ptr, text), t);
    });
  }

  // Room for `size` bytes in the kernel's input buffer, to fill in place.
  // Call it inside input(): asking for room may grow wasm memory, so the heap
  // view it returns is the one to use.
  reserveInput(size) {
    if (size > this.#inboxSize) {
      this.#inboxPtr = this.#kernel.inputBuffer(size);
      this.#inboxSize = size;
    }
    return { ptr: this.#inboxPtr, heap: this.#core.HEAPU8 };
  }

  #drain() {
    this.#draining = true;
    let timeout = -1;
    try {
      do {
        this.#inputDuringDrain = false;
        const decoded = this.#decoder.decode(this.#kernel.pollOutputs().slice());
        timeout = decoded.timeout;
        for (const output of decoded.outputs) {
          try {
            this.#adapters.get(output.type)(output);
          } catch (error) {
            console.error(`peercompute: handling kernel output '${output.type}' failed`, error);
          }
        }
      } while (this.#inputDuringDrain);
    } finally {
      this.#draining = false;
    }
    this.#arm(timeout);
  }

  // Arms one timer for the kernel's next wake-up. A wake-up that moved later
  // (a peer's liveness deadline does, with every frame it sends) keeps the
  // timer armed for the earlier time: it then fires early, the kernel finds
  // nothing due and names its next wake-up, and the timer is armed for that.
  // So a stream of messages costs no timer per message.
  #arm(at) {
    if (at >= 0 && this.#timer !== null && this.#timerAt <= at) return;
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
}
