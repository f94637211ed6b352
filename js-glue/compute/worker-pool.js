// WorkerPool: the node's Web Workers. The kernel decides how many units run
// at once (no more than the pool's size); the pool runs each on an idle
// worker and reports the outcome. A cancelled unit's worker is terminated and
// replaced, so a long task stops at once. Where there are no Web Workers
// (Node), units run inline on the main thread.
import { runTask } from './task-runner.js';

const hasWorkers = typeof Worker === 'function';

export class WorkerPool {
  #size;
  #onOutcome;
  #idle = [];
  #busy = new Map(); // exec -> worker
  #created = 0;

  // onOutcome(exec, {ok, bytes} | {ok: false, error}) is called once per run().
  constructor(size, onOutcome) {
    this.#size = size;
    this.#onOutcome = onOutcome;
  }

  get size() {
    return this.#size;
  }

  get usesWorkers() {
    return hasWorkers;
  }

  run(exec, spec, input) {
    if (!hasWorkers) {
      runTask(spec, input).then((outcome) => this.#report(exec, outcome));
      return;
    }
    const worker = this.#idle.pop() ?? this.#spawn();
    this.#busy.set(exec, worker);
    worker.postMessage({ exec, spec, input }, [input.buffer]);
  }

  cancel(exec) {
    const worker = this.#busy.get(exec);
    if (!worker) return; // inline runs cannot be stopped; their outcome is ignored by the kernel
    this.#busy.delete(exec);
    worker.terminate();
    this.#created--;
    this.#onOutcome(exec, { ok: false, error: 'cancelled' });
  }

  close() {
    for (const worker of [...this.#idle, ...this.#busy.values()]) worker.terminate();
    this.#idle = [];
    this.#busy.clear();
    this.#created = 0;
  }

  #spawn() {
    // Workers start lazily: a page that never computes loads no extra wasm.
    const worker = new Worker(new URL('./task-worker.js', import.meta.url), { type: 'module', name: `peercompute-worker-${++this.#created}` });
    worker.onmessage = ({ data }) => {
      this.#busy.delete(data.exec);
      this.#idle.push(worker);
      this.#report(data.exec, data);
    };
    worker.onerror = (event) => {
      // The worker script itself failed (it did not load, say): whatever it
      // ran fails, and it is replaced.
      event.preventDefault?.();
      for (const [exec, w] of this.#busy) {
        if (w !== worker) continue;
        this.#busy.delete(exec);
        this.#report(exec, { ok: false, error: `the worker failed: ${event.message ?? 'unknown error'}` });
      }
      worker.terminate();
      this.#created--;
    };
    return worker;
  }

  #report(exec, outcome) {
    try {
      this.#onOutcome(exec, outcome);
    } catch (error) {
      console.error('peercompute: handling a task outcome failed', error);
    }
  }
}
