// The compute API in Node (units in worker threads, see also
// node-threads.test.mjs): built-in and module tasks, progress, cancel, stats, and errors that
// name the bad argument. Several tabs sharing work are in e2e/compute.spec.js.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNode, NodeKernel } from '../../dist/peercompute.js';
import { WorkerPool } from '../../dist/compute/worker-pool.js';
import { longestChain } from '../../web/tasks/collatz.js';

// The reference: the definition, written independently of the C++.
function mandelbrot({ x0, y0, dx, dy, width, height, maxIter }) {
  const out = new Uint32Array(width * height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const cr = x0 + i * dx;
      const ci = y0 + j * dy;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < maxIter && zr * zr + zi * zi <= 4) {
        const t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
      }
      out[j * width + i] = n;
    }
  }
  return out;
}

describe('compute in Node', async () => {
  const node = await createNode({ roomId: 'compute-test', enablePersistence: false, computeWorkers: 2 });
  const cm = node.getComputeManager();

  it('runs mandelbrot tiles and returns exactly the reference escape counts, in input order', async () => {
    const tiles = [0, 1, 2, 3].map((t) => ({ x0: -2.1, y0: -1.2 + t * 0.6, dx: 0.03, dy: 0.03, width: 100, height: 20, maxIter: 300 }));
    const job = cm.submitJob('mandelbrot', tiles);
    const seen = [];
    job.on('progress', (p) => seen.push(p));
    const outputs = await job.result;
    assert.equal(outputs.length, 4);
    tiles.forEach((tile, i) => assert.deepEqual(outputs[i], mandelbrot(tile)));
    assert.deepEqual(seen.map((p) => p.done), [1, 2, 3, 4]);
    assert.deepEqual(seen.map((p) => p.index).sort(), [0, 1, 2, 3]);
    assert.deepEqual(seen.at(-1).byPeer, { [node.nodeId]: 4 });
    assert.deepEqual(job.stats.unitsByPeer, { [node.nodeId]: 4 });
    assert.equal(job.stats.retries, 0);
    assert.equal(job.isFinished, true);
  });

  it('counts primes, and submitTask keeps the original {id, type, data} shape', async () => {
    assert.deepEqual(await cm.submitJob('countPrimes', [{ from: 0, to: 100 }, { from: 0, to: 1_000_000 }]).result, [25, 78498]);
    assert.equal(await node.submitTask({ id: 't-1', type: 'countPrimes', data: { from: 10, to: 20 } }), 4);
  });

  it('runs an app task from an ES module', async () => {
    cm.registerTask('collatz', { module: new URL('../../web/tasks/collatz.js', import.meta.url), export: 'longestChain' });
    const inputs = [{ from: 1, to: 1000 }, { from: 1000, to: 5000 }];
    assert.deepEqual(await cm.submitJob('collatz', inputs).result, inputs.map(longestChain));
    assert.ok(cm.getCapabilities().tasks.includes('collatz'));
    assert.deepEqual(cm.getCapabilities().registeredTasks, ['collatz']);
  });

  it('an empty job resolves at once with no outputs', async () => {
    assert.deepEqual(await cm.submitJob('countPrimes', []).result, []);
  });

  it('cancel() rejects the result with an AbortError, and other jobs go on', async () => {
    const big = cm.submitJob('countPrimes', Array.from({ length: 50 }, () => ({ from: 0, to: 200_000 })));
    const small = cm.submitJob('countPrimes', [{ from: 0, to: 10 }]);
    assert.equal(big.cancel(), true);
    await assert.rejects(big.result, { name: 'AbortError', message: /was cancelled/ });
    assert.equal(big.cancel(), false);
    assert.deepEqual(await small.result, [4]);
  });

  it('a task that fails on every attempt fails the job, naming the unit and the error', async () => {
    cm.registerTask('throws', { module: new URL('../../web/tasks/collatz.js', import.meta.url), export: 'alwaysThrows' });
    const job = cm.submitJob('throws', [{}], { maxAttempts: 2 });
    await assert.rejects(job.result, /unit 0 failed 2 times; last: .*throws: this task always fails/);
    assert.equal(job.stats.retries, 1);
  });

  it("a failed job whose 'error' the app listens for leaves no unhandled rejection behind", async () => {
    cm.registerTask('throws', { module: new URL('../../web/tasks/collatz.js', import.meta.url), export: 'alwaysThrows' });
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const job = cm.submitJob('throws', [{}], { maxAttempts: 1 });
      const failed = new Promise((resolve) => job.on('error', resolve));
      assert.match((await failed).message, /throws: this task always fails/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
      await assert.rejects(job.result, /this task always fails/); // still rejects for whoever awaits it
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('throws an Error that names the bad argument, and submits nothing', () => {
    const before = node.getStatus().compute.activeJobs;
    assert.throws(() => cm.submitJob('noSuchTask', [1]), /submitJob\(name, inputs, options\): unknown task 'noSuchTask'/);
    assert.throws(() => cm.submitJob(42, []), /submitJob.*name must be a task name/);
    assert.throws(() => cm.submitJob('countPrimes', 'x'), /inputs must be an array/);
    assert.throws(() => cm.submitJob('countPrimes', [{ a: undefined }]), /inputs\[0\]\.a is undefined, not data/);
    assert.throws(() => cm.submitJob('countPrimes', [new Map()]), /inputs\[0\] is a Map, not data/);
    assert.throws(() => cm.submitJob('countPrimes', [new Uint8Array(16 * 1024 * 1024 + 1)]), /inputs\[0\] is \d+ bytes, over the limit of 16777216/);
    assert.throws(() => cm.submitJob('countPrimes', [], { redundancy: 1.5 }), /options\.redundancy must be an integer/);
    assert.throws(() => cm.submitJob('countPrimes', [], { timeoutMs: -1 }), /options\.timeoutMs must be a positive number/);
    assert.throws(() => cm.submitJob('countPrimes', [], { maxAttempts: 0 }), /options\.maxAttempts must be an integer/);
    assert.throws(() => cm.submitJob('countPrimes', [], { retries: 2 }), /options\.retries is not an option/);
    // Built-in tasks check their inputs at submission, naming the input and the field.
    assert.throws(() => cm.submitJob('mandelbrot', [{ x0: 0 }]), /^Error: submitJob\(name, inputs, options\): inputs\[0\]: mandelbrot: input\.y0 must be a number$/);
    assert.throws(() => cm.submitJob('countPrimes', [{ from: 0, to: 10 }, { from: 5, to: 1 }]), /inputs\[1\]: countPrimes: input\.to must not be below input\.from/);
    assert.throws(() => cm.registerTask('mandelbrot', { module: './x.js', export: 'f' }), /'mandelbrot' is a built-in task/);
    assert.throws(() => cm.registerTask('ok', { module: './x.js', fn: 'f' }), /unknown option 'fn'/);
    assert.throws(() => cm.registerTask('ok', () => 1), /must be an object \{module: url, export/);
    assert.throws(() => cm.registerTask('has space', { module: './x.js' }), /name must be 1-64 characters/);
    assert.rejects(() => node.submitTask({ type: 'countPrimes' }), /task\.data is missing/);
    assert.equal(node.getStatus().compute.activeJobs, before);
  });

  it('reports workers and units in getStatus().compute', async () => {
    await cm.submitJob('countPrimes', [{ from: 0, to: 10 }]).result;
    const c = node.getStatus().compute;
    assert.equal(c.enabled, true);
    assert.equal(c.available, true);
    assert.equal(c.workers, 2);
    assert.ok(c.completed > 0);
    assert.equal(c.queued, 0);
    assert.deepEqual(c.tasks, ['collatz', 'countPrimes', 'mandelbrot', 'throws']);
  });

  it('a node with computeWorkers 0 runs nothing, so a job waits for a peer', async () => {
    const idle = await createNode({ roomId: 'compute-idle', enablePersistence: false, computeWorkers: 0 });
    assert.equal(idle.getStatus().compute.available, false);
    const job = idle.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 10 }]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(job.done, 0);
    assert.equal(job.isFinished, false);
    job.cancel();
  });

  it('a pool without workers runs a unit inline to its end: the CPU budget (maxUnitMs) cannot stop it, and nothing breaks', async () => {
    const { encodeTaskData, decodeTaskData } = await import('../../dist/compute/task-data.js');
    const outcomes = [];
    const pool = new WorkerPool(1, (exec, outcome) => outcomes.push([exec, outcome]));
    assert.equal(pool.usesWorkers, false);
    const started = performance.now();
    pool.run(7, { kind: 'builtin', name: 'countPrimes' }, encodeTaskData({ from: 0, to: 3_000_000 }), 1);
    while (outcomes.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(performance.now() - started > 1, 'it ran past its 1 ms budget');
    assert.equal(outcomes[0][0], 7);
    assert.equal(outcomes[0][1].ok, true);
    assert.equal(decodeTaskData(outcomes[0][1].bytes), 216_816);
    pool.cancel(7); // nothing to stop: no second answer
    pool.close();
    assert.equal(outcomes.length, 1);
    // A node with a budget runs its own jobs (which have none) as before.
    const budgeted = await createNode({ roomId: 'compute-budget', enablePersistence: false, computeWorkers: 1, maxUnitMs: 1 });
    assert.deepEqual(await budgeted.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 1_000_000 }]).result, [78498]);
  });

  it('getComputeManager and submitTask before initialize throw a clear error', () => {
    const fresh = new NodeKernel({ enablePersistence: false });
    assert.throws(() => fresh.getComputeManager(), /getComputeManager\(\): the node is not initialized/);
    assert.throws(() => fresh.submitTask({ type: 'countPrimes', data: {} }), /submitTask\(\): the node is not initialized/);
    assert.throws(() => new NodeKernel({ computeWorkers: -1 }), /config\.computeWorkers/);
    // The test hook of earlier versions is gone from the product: an unknown option.
    assert.throws(() => new NodeKernel({ faultInjection: { corruptResults: true } }), /config\.faultInjection: unknown option/);
  });

  it('unitsQueuedPerWorker: 1 by default in Node (units run in worker threads), 0..4 when given, and a clear error otherwise', async () => {
    assert.equal(new NodeKernel({ enablePersistence: false }).config.unitsQueuedPerWorker, 1, 'Node runs units in worker threads');
    assert.equal(new NodeKernel({ enablePersistence: false, unitsQueuedPerWorker: 2 }).config.unitsQueuedPerWorker, 2);
    for (const bad of [-1, 5, 1.5, '1', true]) {
      assert.throws(() => new NodeKernel({ unitsQueuedPerWorker: bad }), /config\.unitsQueuedPerWorker: must be null or an integer in 0\.\.4/);
    }
    // The kernel takes it: with one worker and one unit queued, two units of a job are out at once.
    const queued = await createNode({ roomId: 'compute-queued', enablePersistence: false, computeWorkers: 1, unitsQueuedPerWorker: 1 });
    try {
      const job = queued.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 10 }, { from: 10, to: 20 }, { from: 20, to: 30 }]);
      assert.equal(queued.getStatus().compute.running, 2);
      assert.equal(queued.getStatus().compute.queued, 0, 'the third waits in the scheduler for a free slot');
      assert.deepEqual(await job.result, [4, 4, 2]);
    } finally {
      await queued.stop();
    }
  });
});
