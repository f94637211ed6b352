// Compute in Node.js runs in worker threads, behind the same pool and worker
// script as a browser's Web Workers: units run off the main thread, a
// running unit is stopped by terminating its thread (a cancel, or a peer's
// unit past its CPU budget), and a process that ran a job ends by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { createNode } from '../../dist/peercompute.js';
import { WorkerPool } from '../../dist/compute/worker-pool.js';
import { loadThreadWorker } from '../../dist/compute/node-threads.js';
import { decodeTaskData, encodeTaskData } from '../../dist/compute/task-data.js';

const TASKS = new URL('./support/thread-task.mjs', import.meta.url).href;

describe('compute in Node.js worker threads', () => {
  it('runs units in worker threads, not on the main thread, two workers at once', async () => {
    const node = await createNode({ roomId: 'threads-where', enablePersistence: false, computeWorkers: 2 });
    const compute = node.getComputeManager();
    assert.equal(compute.getCapabilities().usesWebWorkers, true);
    compute.registerTask('whichThread', { module: TASKS, export: 'whichThread' });
    const threads = await compute.submitJob('whichThread', Array.from({ length: 12 }, (_, i) => i)).result;
    assert.equal(threadId, 0);
    assert.ok(threads.every((id) => Number.isInteger(id) && id !== threadId), `units ran in worker threads: ${threads}`);
    const primes = await compute.submitJob('countPrimes', [{ from: 0, to: 10_000 }, { from: 0, to: 100_000 }]).result;
    assert.deepEqual(primes, [1229, 9592]);
  });

  it('a cancelled unit that is running is stopped by terminating its thread, and the next unit runs in a fresh one', async () => {
    const outcomes = new Map();
    const pool = new WorkerPool(1, (exec, outcome) => outcomes.set(exec, outcome), null, await loadThreadWorker());
    const spin = { kind: 'module', name: 'spin', module: TASKS, export: 'spinForever' };
    pool.run(1, spin, encodeTaskData(0));
    await new Promise((r) => setTimeout(r, 300)); // it loads and starts spinning
    pool.cancel(1);
    assert.deepEqual(outcomes.get(1), { ok: false, error: 'cancelled' });
    pool.run(2, { kind: 'builtin', name: 'countPrimes' }, encodeTaskData({ from: 0, to: 1000 }));
    while (!outcomes.has(2)) await new Promise((r) => setTimeout(r, 10));
    assert.equal(outcomes.get(2).ok, true);
    assert.equal(decodeTaskData(outcomes.get(2).bytes), 168);
    pool.close();
  });

  it("a peer's unit past its CPU budget is stopped and answered with an error naming the budget", async () => {
    const outcomes = new Map();
    const pool = new WorkerPool(1, (exec, outcome) => outcomes.set(exec, outcome), null, await loadThreadWorker());
    const started = performance.now();
    pool.run(5, { kind: 'module', name: 'spin', module: TASKS, export: 'spinForever' }, encodeTaskData(0), 200);
    while (!outcomes.has(5)) await new Promise((r) => setTimeout(r, 10));
    assert.equal(outcomes.get(5).ok, false);
    assert.match(outcomes.get(5).error, /spin: the unit ran past its CPU budget of 200 ms and was stopped \(the maxUnitMs option of the node that ran it\)/);
    assert.ok(performance.now() - started < 5000);
    pool.close();
  });

  it('a process that ran a job ends by itself: idle threads do not keep it alive', () => {
    const script = `
      import { createNode } from ${JSON.stringify(new URL('../../dist/peercompute.js', import.meta.url).href)};
      const node = await createNode({ roomId: 'threads-exit', enablePersistence: false, computeWorkers: 2 });
      const out = await node.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 100000 }, { from: 0, to: 1000 }]).result;
      console.log(JSON.stringify(out));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.error, undefined, 'it ended within 20 s');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()), [9592, 168]);
  });
});

describe('threadExecArgv', () => {
  it("keeps the process's Node options and drops those about its entry", async () => {
    const { threadExecArgv } = await import('../../dist/compute/node-threads.js');
    assert.deepEqual(threadExecArgv(['--input-type=module', '-e', 'code', '--max-old-space-size=512']), ['--max-old-space-size=512']);
    assert.deepEqual(threadExecArgv(['--eval=code', '-p', 'x', '--enable-source-maps']), ['--enable-source-maps']);
  });
});
