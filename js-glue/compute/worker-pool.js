// WorkerPool: the node's Web Workers. The kernel decides how many units the
// pool holds at once: one running in each worker, plus (by default) one
// waiting in each worker's own queue, so that a worker starts its next unit
// the moment it ends one instead of waiting for a round trip through the
// page (config.unitsQueuedPerWorker); for small units of this node's own
// jobs, up to about 4 ms of them. The units handed over in one task go to
// each worker in one message, and come back in as few (task-worker.js), so a
// unit much shorter than a message costs little more than itself.
// Cancelling a running unit terminates its worker (nothing else stops a
// task), and the units queued behind it go on in a fresh one; a queued unit
// is taken out of its worker's queue.
//
// A unit run for a peer has a CPU budget (config.maxUnitMs, handed over by the
// kernel as budgetMs; 0 for this node's own units): it is timed from when its
// worker starts the task (after the worker has loaded the wasm and the task's
// module, and not while the unit waits in the worker's queue). A unit still
// running when its budget is spent is stopped like a cancelled one, and
// answered with an error that names the budget.
//
// In Node.js the workers are worker_threads behind the same interface
// (node-threads.js). Where there are no workers at all, units run inline on
// the main thread; synchronous code there cannot be interrupted, so the
// budget does not apply: an inline unit runs to its end.
import { runTask } from './task-runner.js';

// setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;
// After the worker script failed to load, units fail at once for this long;
// then a worker is tried again.
const BROKEN_RETRY_MS = 10_000;

export class WorkerPool {
  #size;
  #onOutcome;
  #slots = []; // {worker, units: [{exec, spec, input, budgetMs, timer}], outbox: [...]}; units[0] is running
  #flushing = false; // a microtask will post every slot's outbox
  #slotOf = new Map(); // exec -> slot
  #spawned = 0;
  #workerUrl;
  #Worker; // the Worker class, or null: units run inline
  // Why the worker script cannot load, while that is fresh: units fail at
  // once with it, rather than each spawning a worker that fails the same way.
  #broken = null; // {message, until}

  // onOutcome(exec, {ok, bytes, runMs} | {ok: false, error, runMs}) is called
  // once per run(); runMs is how long the task ran (0: it never started).
  // workerUrl: null for the script beside this module, else its URL.
  // WorkerClass: the browser's Worker, a Node.js stand-in, or null (inline).
  constructor(size, onOutcome, workerUrl = null, WorkerClass = typeof Worker === 'function' ? Worker : null) {
    this.#size = size;
    this.#onOutcome = onOutcome;
    this.#workerUrl = workerUrl;
    this.#Worker = WorkerClass;
  }

  get size() {
    return this.#size;
  }

  get usesWorkers() {
    return this.#Worker !== null;
  }

  // budgetMs: how long the unit may run once started; 0: no limit.
  run(exec, spec, input, budgetMs = 0) {
    if (this.#Worker === null) {
      runTask(spec, input).then((outcome) => this.#report(exec, outcome));
      return;
    }
    if (this.#broken && performance.now() < this.#broken.until) {
      queueMicrotask(() => this.#report(exec, { ok: false, error: this.#broken.message, runMs: 0 }));
      return;
    }
    this.#post(this.#pick(), { exec, spec, input, budgetMs: budgetMs > 0 ? budgetMs : 0, timer: null });
  }

  cancel(exec) {
    // Inline runs cannot be stopped; their outcome is ignored by the kernel.
    this.#stop(exec, { ok: false, error: 'cancelled' });
  }

  close() {
    for (const slot of this.#slots) {
      for (const unit of slot.units) clearTimeout(unit.timer);
      slot.worker.terminate();
    }
    this.#slots = [];
    this.#slotOf.clear();
  }

  // Takes a unit out of the pool and answers it with `outcome`. A running
  // unit is stopped by terminating its worker; the units queued behind it go
  // on in a fresh one.
  #stop(exec, outcome) {
    const slot = this.#slotOf.get(exec);
    if (!slot) return;
    this.#slotOf.delete(exec);
    const index = slot.units.findIndex((unit) => unit.exec === exec);
    const [unit] = slot.units.splice(index, 1);
    clearTimeout(unit.timer);
    const waiting = slot.outbox.indexOf(unit);
    if (waiting >= 0) {
      slot.outbox.splice(waiting, 1); // not posted yet: the worker never sees it
    } else if (index === 0) {
      // Emptied first, so that nothing the terminated worker still delivers
      // is taken for the answer of a unit that has moved on.
      const queued = slot.units.splice(0);
      this.#retire(slot);
      for (const next of queued) this.#post(this.#pick(), next);
    } else {
      slot.worker.postMessage({ cancel: exec });
    }
    this.#hold(slot);
    this.#report(exec, outcome);
  }

  // A worker thread (Node.js) keeps the process alive only while it holds
  // units: an idle pool must not, a job under way must.
  #hold(slot) {
    slot.worker.hold?.(slot.units.length > 0);
  }

  // The worker began the unit's task: its budget starts now.
  #started(slot, exec) {
    const unit = slot.units[0];
    if (!unit || unit.exec !== exec || unit.budgetMs === 0 || unit.timer !== null) return;
    unit.timer = setTimeout(() => {
      unit.timer = null;
      if (slot.units[0] !== unit) return; // it ended meanwhile
      this.#stop(exec, {
        ok: false,
        error: `${unit.spec.name}: the unit ran past its CPU budget of ${unit.budgetMs} ms and was stopped (the maxUnitMs option of the node that ran it)`,
      });
    }, Math.min(unit.budgetMs, MAX_TIMER_MS));
  }

  // An idle worker, else a new one while there are fewer than size, else
  // the one with the shortest queue.
  #pick() {
    let best = null;
    for (const slot of this.#slots) if (!best || slot.units.length < best.units.length) best = slot;
    if ((!best || best.units.length > 0) && this.#slots.length < this.#size) return this.#spawn();
    return best;
  }

  #post(slot, unit) {
    slot.units.push(unit);
    this.#hold(slot);
    slot.outbox.push(unit);
    this.#slotOf.set(unit.exec, slot);
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => this.#flush());
  }

  // One message per worker for the units handed over since the last flush.
  #flush() {
    this.#flushing = false;
    for (const slot of this.#slots) {
      if (slot.outbox.length === 0) continue;
      // Copied, not transferred: the pool keeps the input, to hand the unit to
      // a fresh worker should this one be terminated before running it.
      // `timed`: the worker says when the unit starts (one message more, so
      // only for units with a budget: this node's own tiny units pay nothing).
      const runs = slot.outbox.map((unit) => ({ exec: unit.exec, spec: unit.spec, input: unit.input, timed: unit.budgetMs > 0 }));
      slot.outbox = [];
      slot.worker.postMessage({ runs });
    }
  }

  #retire(slot) {
    slot.worker.terminate();
    slot.outbox = [];
    this.#slots.splice(this.#slots.indexOf(slot), 1);
  }

  #spawn() {
    // Workers start lazily: a page that never computes loads no extra wasm.
    const name = `peercompute-worker-${++this.#spawned}`;
    const options = { type: 'module', name };
    let worker;
    if (this.#Worker !== globalThis.Worker) {
      // A stand-in: worker threads in Node.js.
      worker = new this.#Worker(this.#workerUrl ?? new URL('./task-worker.js', import.meta.url), options);
    } else if (this.#workerUrl) {
      worker = new Worker(this.#workerUrl, options);
    } else {
      // The literal form lets bundlers that follow `new Worker(new URL(…, import.meta.url))` (Vite, webpack) bundle the worker.
      worker = new Worker(new URL('./task-worker.js', import.meta.url), { type: 'module', name });
    }
    const slot = { worker, units: [], outbox: [], loaded: false };
    worker.onmessage = ({ data }) => {
      if (data.loaded) {
        slot.loaded = true;
        this.#broken = null;
        return;
      }
      if (data.started !== undefined) {
        this.#started(slot, data.started);
        return;
      }
      for (const result of data.results) {
        if (!this.#slots.includes(slot)) return; // terminated while answering these
        const index = slot.units.findIndex((unit) => unit.exec === result.exec);
        if (index < 0) continue; // cancelled after it had started: already answered
        const [unit] = slot.units.splice(index, 1);
        clearTimeout(unit.timer);
        this.#slotOf.delete(result.exec);
        this.#report(result.exec, result);
      }
      this.#hold(slot);
    };
    worker.onerror = async (event) => {
      // The worker script itself failed: whatever it holds fails, and it is
      // replaced when next needed. One that never loaded (a 404, a CSP that
      // forbids it) is explained: the browser's error event says nothing of
      // why, so the script's URL is fetched to learn it.
      event.preventDefault?.();
      if (!this.#slots.includes(slot)) return;
      this.#retire(slot);
      const units = slot.units.splice(0);
      for (const unit of units) {
        clearTimeout(unit.timer);
        this.#slotOf.delete(unit.exec);
      }
      let error = `the worker failed: ${event.message || 'unknown error'}`;
      if (!slot.loaded) {
        error = await this.#whyNotLoaded(event);
        this.#broken = { message: error, until: performance.now() + BROKEN_RETRY_MS };
      }
      for (const unit of units) this.#report(unit.exec, { ok: false, error, runMs: 0 });
    };
    this.#slots.push(slot);
    return slot;
  }

  async #whyNotLoaded(event) {
    const url = String(this.#workerUrl ?? new URL('./task-worker.js', import.meta.url));
    let cause = event.message || 'it did not load';
    try {
      // A file (Node.js) is not fetched: the thread's own error said why.
      if (url.startsWith('file:')) throw new Error(cause);
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) cause = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    } catch (error) {
      cause = error.message;
    }
    return (
      `peercompute: the compute worker script did not load from ${url}: ${cause}. Serve the package's dist/bundle/task-worker.js there, ` +
      "or set the assetBaseUrl option to the URL of a copy of the package's dist/bundle/ folder (bundlers that do not bundle the worker, such as esbuild, need this)"
    );
  }

  #report(exec, outcome) {
    try {
      this.#onOutcome(exec, outcome);
    } catch (error) {
      console.error('peercompute: handling a task outcome failed', error);
    }
  }
}
