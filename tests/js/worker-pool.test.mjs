// The WorkerPool's CPU budget, against stand-in Web Workers (Node has none):
// a unit past its budget is stopped, its worker terminated, the units queued
// behind it go on in a fresh one; the budget counts from when the worker
// starts the unit, not while it waits in the worker's queue. The real thing,
// across tabs, is in e2e/compute.spec.js. Each test file runs in a process of
// its own, so the stand-in global stays here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// A stand-in for task-worker.js, speaking its protocol: units come in
// batches ({runs}); it runs them one at a time and in order, and answers each
// in a {results} message. A unit's input is {loadMs, runMs}: it posts
// {started} (for a unit posted `timed`) after loadMs (the worker loading the
// task's module), and its result runMs later; runMs Infinity never ends.
class FakeWorker {
  static all = [];
  onmessage = null;
  onerror = null;
  terminated = false;
  messages = []; // every message the pool posted
  #queue = [];
  #busy = false;
  #timer = null;

  constructor(url, options) {
    this.name = options?.name;
    FakeWorker.all.push(this);
  }

  postMessage(message) {
    this.messages.push(message);
    if (message.cancel !== undefined) {
      this.#queue = this.#queue.filter((unit) => unit.exec !== message.cancel);
      return;
    }
    this.#queue.push(...message.runs);
    this.#next();
  }

  terminate() {
    this.terminated = true;
    clearTimeout(this.#timer);
  }

  #post(data) {
    if (!this.terminated) this.onmessage?.({ data });
  }

  #next() {
    if (this.#busy || this.#queue.length === 0 || this.terminated) return;
    this.#busy = true;
    const unit = this.#queue.shift();
    this.#timer = setTimeout(() => {
      if (unit.timed) this.#post({ started: unit.exec });
      if (unit.input.runMs === Infinity) return;
      this.#timer = setTimeout(() => {
        this.#post({ results: [{ exec: unit.exec, ok: true, bytes: new Uint8Array([unit.exec]), runMs: unit.input.runMs }] });
        this.#busy = false;
        this.#next();
      }, unit.input.runMs);
    }, unit.input.loadMs ?? 0);
  }
}

globalThis.Worker = FakeWorker;
const { WorkerPool } = await import('../../dist/compute/worker-pool.js');

const spec = (name) => ({ kind: 'module', name, module: 'data:text/javascript,', export: 'f' });

// A pool of `size` workers whose outcomes are recorded, with when they came.
function pool(size) {
  const outcomes = [];
  const waiters = [];
  const t0 = performance.now();
  const p = new WorkerPool(size, (exec, outcome) => {
    outcomes.push({ exec, ...outcome, at: performance.now() - t0 });
    for (const w of waiters.splice(0)) w();
  });
  const settled = async (count) => {
    while (outcomes.length < count) await new Promise((resolve) => waiters.push(resolve));
    return outcomes;
  };
  return { p, outcomes, settled };
}

describe('WorkerPool CPU budget (stand-in workers)', () => {
  it('stops a unit that runs past its budget, answers with an error naming the budget and maxUnitMs, and terminates its worker', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, settled } = pool(1);
    p.run(1, spec('spin'), { runMs: Infinity }, 50);
    const [outcome] = await settled(1);
    assert.equal(outcome.exec, 1);
    assert.equal(outcome.ok, false);
    assert.match(outcome.error, /^spin: the unit ran past its CPU budget of 50 ms and was stopped \(the maxUnitMs option/);
    assert.ok(outcome.at >= 45 && outcome.at < 1000, `stopped after ${outcome.at} ms`);
    assert.equal(FakeWorker.all.length, 1);
    assert.equal(FakeWorker.all[0].terminated, true);
    // A later unit gets a fresh worker.
    p.run(2, spec('quick'), { runMs: 1 }, 50);
    const outcomes = await settled(2);
    assert.equal(outcomes[1].ok, true);
    assert.equal(FakeWorker.all.length, 2);
    assert.equal(FakeWorker.all[1].terminated, false);
    p.close();
  });

  it('the units queued behind a stopped unit go on in a fresh worker', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, settled } = pool(1);
    p.run(1, spec('spin'), { runMs: Infinity }, 60);
    p.run(2, spec('quick'), { runMs: 5 }, 60); // queued in the same worker
    p.run(3, spec('quick'), { runMs: 5 }, 60);
    assert.equal(FakeWorker.all.length, 1, 'one worker holds all three');
    const outcomes = await settled(3);
    assert.deepEqual(
      outcomes.map(({ exec, ok }) => [exec, ok]),
      [
        [1, false],
        [2, true],
        [3, true],
      ],
    );
    assert.equal(FakeWorker.all.length, 2);
    assert.deepEqual(
      FakeWorker.all.map((w) => w.terminated),
      [true, false],
    );
    p.close();
  });

  it('counts the budget from when the worker starts the unit: not its queueing, not its loading', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, settled } = pool(1);
    // Each runs 40 ms of an 80 ms budget. The second waits 40 ms in the
    // worker's queue first and the third 80 ms: counted from their queueing,
    // both would pass the budget. The first loads for 100 ms before it starts.
    p.run(1, spec('a'), { loadMs: 100, runMs: 40 }, 80);
    p.run(2, spec('b'), { runMs: 40 }, 80);
    p.run(3, spec('c'), { runMs: 40 }, 80);
    const outcomes = await settled(3);
    assert.deepEqual(
      outcomes.map(({ exec, ok, error }) => [exec, ok, error]),
      [
        [1, true, undefined],
        [2, true, undefined],
        [3, true, undefined],
      ],
    );
    assert.equal(FakeWorker.all.length, 1, 'no worker was stopped');
    p.close();
  });

  it('a budget of 0 is no limit, and a cancel still stops a unit that has a budget', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, outcomes, settled } = pool(2);
    p.run(1, spec('long'), { runMs: 150 }, 0);
    p.run(2, spec('spin'), { runMs: Infinity }, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    p.cancel(2);
    assert.deepEqual(outcomes.map(({ exec, error }) => [exec, error]), [[2, 'cancelled']]);
    await settled(2);
    assert.deepEqual(
      outcomes.map(({ exec, ok }) => [exec, ok]),
      [
        [2, false],
        [1, true],
      ],
    );
    // The cancelled unit's budget timer went with it: nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(outcomes.length, 2);
    p.close();
  });

  it('close() clears the budget timers of the units it drops', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, outcomes } = pool(1);
    p.run(1, spec('spin'), { runMs: Infinity }, 30);
    await new Promise((resolve) => setTimeout(resolve, 5));
    p.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(outcomes, []);
  });
});

describe('WorkerPool batches (stand-in workers)', () => {
  it('hands a worker the units of one task in one message, and answers each unit with its run time', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, settled } = pool(1);
    for (let exec = 1; exec <= 20; exec++) p.run(exec, spec('tiny'), { runMs: 0 }, 0);
    const outcomes = await settled(20);
    assert.equal(FakeWorker.all.length, 1);
    const runs = FakeWorker.all[0].messages.filter((m) => m.runs);
    assert.equal(runs.length, 1, 'one message');
    assert.deepEqual(runs[0].runs.map((r) => r.exec), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(outcomes.map((o) => o.exec), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(outcomes.every((o) => o.ok && o.runMs === 0));
    p.close();
  });

  it('a unit cancelled before its batch is posted never reaches the worker, and its worker lives on', { timeout: 5000 }, async () => {
    FakeWorker.all = [];
    const { p, outcomes, settled } = pool(1);
    p.run(1, spec('a'), { runMs: 1 }, 0);
    p.run(2, spec('b'), { runMs: 1 }, 0);
    p.run(3, spec('c'), { runMs: 1 }, 0);
    p.cancel(1); // the running-to-be unit, still in the outbox: no terminate needed
    p.cancel(2);
    await settled(3);
    assert.deepEqual(outcomes.map(({ exec, ok }) => [exec, ok]), [[1, false], [2, false], [3, true]]);
    const [worker] = FakeWorker.all;
    assert.equal(worker.terminated, false);
    assert.deepEqual(worker.messages.map((m) => m.runs?.map((r) => r.exec) ?? m), [[3]]);
    p.close();
  });
});

