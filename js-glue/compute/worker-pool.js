// WorkerPool: the node's Web Workers. The kernel decides how many units the
// pool holds at once: one running in each worker, plus (by default) one
// waiting in each worker's own queue, so that a worker starts its next unit
// the moment it ends one instead of waiting for a round trip through the
// page (config.unitsQueuedPerWorker). Cancelling a running unit terminates its worker (nothing else stops
// a task), and the units queued behind it go on in a fresh one; a queued
// unit is taken out of its worker's queue. Where there are no Web Workers
// (Node), units run inline on the main thread.
import { runTask } from './task-runner.js';

const hasWorkers = typeof Worker === 'function';

export class WorkerPool {
  #size;
  #onOutcome;
  #slots = []; // {worker, units: [{exec, spec, input}]}; units[0] is running
  #slotOf = new Map(); // exec -> slot
  #spawned = 0;

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
    this.#post(this.#pick(), { exec, spec, input });
  }

  cancel(exec) {
    const slot = this.#slotOf.get(exec);
    if (!slot) return; // inline runs cannot be stopped; their outcome is ignored by the kernel
    this.#slotOf.delete(exec);
    const index = slot.units.findIndex((unit) => unit.exec === exec);
    slot.units.splice(index, 1);
    if (index === 0) {
      // Emptied first, so that nothing the terminated worker still delivers
      // is taken for the answer of a unit that has moved on.
      const queued = slot.units.splice(0);
      this.#retire(slot);
      for (const unit of queued) this.#post(this.#pick(), unit);
    } else {
      slot.worker.postMessage({ cancel: exec });
    }
    this.#report(exec, { ok: false, error: 'cancelled' });
  }

  close() {
    for (const slot of this.#slots) slot.worker.terminate();
    this.#slots = [];
    this.#slotOf.clear();
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
    this.#slotOf.set(unit.exec, slot);
    // Copied, not transferred: the pool keeps the input, to hand the unit to
    // a fresh worker should this one be terminated before running it.
    slot.worker.postMessage({ run: unit.exec, spec: unit.spec, input: unit.input });
  }

  #retire(slot) {
    slot.worker.terminate();
    this.#slots.splice(this.#slots.indexOf(slot), 1);
  }

  #spawn() {
    // Workers start lazily: a page that never computes loads no extra wasm.
    const worker = new Worker(new URL('./task-worker.js', import.meta.url), { type: 'module', name: `peercompute-worker-${++this.#spawned}` });
    const slot = { worker, units: [] };
    worker.onmessage = ({ data }) => {
      const index = slot.units.findIndex((unit) => unit.exec === data.exec);
      if (index < 0) return; // cancelled after it had started: already answered
      slot.units.splice(index, 1);
      this.#slotOf.delete(data.exec);
      this.#report(data.exec, data);
    };
    worker.onerror = (event) => {
      // The worker script itself failed (it did not load, say): whatever it
      // holds fails, and it is replaced when next needed.
      event.preventDefault?.();
      if (!this.#slots.includes(slot)) return;
      this.#retire(slot);
      for (const unit of slot.units.splice(0)) {
        this.#slotOf.delete(unit.exec);
        this.#report(unit.exec, { ok: false, error: `the worker failed: ${event.message ?? 'unknown error'}` });
      }
    };
    this.#slots.push(slot);
    return slot;
  }

  #report(exec, outcome) {
    try {
      this.#onOutcome(exec, outcome);
    } catch (error) {
      console.error('peercompute: handling a task outcome failed', error);
    }
  }
}
