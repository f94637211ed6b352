// Distributed compute across real tabs: work split among peers, a peer
// closed mid-job, a quorum that catches a lying peer, and an app's own task
// module. Results are compared exactly with a lone tab's.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, openTab, startConfiguredNode, uniqueRoom } from './support/nodes.js';

// 48 tiles of a 480x360 view of the Mandelbrot set: heavy enough that every
// tab gets work, light enough for a test (about 2 s on one core).
const TILES = (() => {
  const tiles = [];
  const [cols, rows, width, height] = [6, 8, 480, 360];
  const [x0, y0, x1, y1] = [-2.2, -1.2, 0.8, 1.2];
  const dx = (x1 - x0) / width;
  const dy = (y1 - y0) / height;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const w = width / cols;
      const h = height / rows;
      tiles.push({ x0: x0 + c * w * dx, y0: y0 + r * h * dy, dx, dy, width: w, height: h, maxIter: 1500 });
    }
  }
  return tiles;
})();

// Waits until each page's compute manager has heard every other page's
// Capabilities, so jobs may go anywhere.
async function expectWorkersKnown(pages, ids) {
  for (const [i, page] of pages.entries()) {
    const others = ids.filter((_, j) => j !== i).sort();
    await expect
      .poll(() => page.evaluate(() => Object.keys(window.node.getComputeManager().getCapabilities().peers).sort()))
      .toEqual(others);
  }
}

// Runs the job in the page, keeping progress events in window.__progress,
// and returns {hash, stats, owners}: an FNV-1a hash of every output's bytes
// in input order, the job's stats, and who computed each unit.
function runJob(page, name, inputs, options = {}) {
  return page.evaluate(
    async ([n, ins, opts]) => {
      const job = window.node.getComputeManager().submitJob(n, ins, opts);
      window.__progress = [];
      job.on('progress', (p) => window.__progress.push({ index: p.index, peers: p.peers }));
      const outputs = await job.result;
      let hash = 0x811c9dc5;
      for (const out of outputs) {
        const bytes = out instanceof Uint32Array ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new TextEncoder().encode(JSON.stringify(out));
        for (const b of bytes) hash = Math.imul(hash ^ b, 16777619) >>> 0;
        hash = Math.imul(hash ^ 0xff, 16777619) >>> 0; // unit boundary
      }
      const owners = [];
      for (const p of window.__progress) owners[p.index] = p.peers;
      return { hash, stats: job.stats, owners, count: outputs.length, outputs: outputs.every((o) => o instanceof Uint32Array) ? null : outputs };
    },
    [name, inputs, options],
  );
}

async function loneTabResult(context, testInfo, name, inputs) {
  const page = await openTab(context, uniqueRoom(testInfo));
  await startConfiguredNode(page, { roomId: uniqueRoom(testInfo), enablePersistence: false });
  const result = await runJob(page, name, inputs);
  await page.close();
  return result;
}

test('three tabs share a job; one is closed mid-job and the image still equals a lone tab\'s exactly', async ({ context }, testInfo) => {
  test.setTimeout(90_000);

  const room = uniqueRoom(testInfo);
  const { pages, ids } = await openStartedTabs(context, room, 3);
  await expectConnectedTo(pages[0], [ids[1], ids[2]]);
  await expectConnectedTo(pages[2], [ids[0], ids[1]]);
  await expectWorkersKnown(pages, ids);
  // Each tab's Web Worker starts, and compiles the wasm, on its first unit:
  // warmed up here, so that tab C's first result does not lag the whole job.
  for (const page of pages) await runJob(page, 'mandelbrot', [TILES[0]]);

  // Tiles inside the main cardioid, where every pixel runs to maxIter: all
  // alike and none quick, so the tab closed mid-job surely holds a unit
  // (a blank tile could finish in the moment before the close).
  const tiles = TILES.map((tile, i) => ({ ...tile, x0: -0.6 + (i % 6) * 0.12, y0: -0.36 + Math.floor(i / 6) * 0.09, dx: 0.0015, dy: 0.002, maxIter: 2500 }));
  const reference = await loneTabResult(context, testInfo, 'mandelbrot', tiles);
  const running = runJob(pages[0], 'mandelbrot', tiles);
  // Close tab C as soon as it has delivered a unit, while units remain. The
  // page watches, not the test: a poll from here may come too late.
  const doneBeforeClose = await pages[0].evaluate(
    (c) =>
      new Promise((resolve) => {
        const check = () => {
          const progress = window.__progress ?? [];
          if (progress.some((p) => p.peers.includes(c))) resolve(progress.length);
          else setTimeout(check, 2);
        };
        check();
      }),
    ids[2],
  );
  expect(doneBeforeClose).toBeLessThan(TILES.length - 4);
  await pages[2].close();

  const result = await running;
  expect(reference.count).toBe(tiles.length);
  expect(result.hash).toBe(reference.hash);
  expect(result.count).toBe(tiles.length);
  // Every tab took part, and units C held when it went were issued again.
  for (const id of ids) expect(result.stats.unitsByPeer[id] ?? 0).toBeGreaterThan(0);
  expect(result.stats.retries).toBeGreaterThan(0);
  expect(result.stats.rejectedResults).toBe(0);
  const status = await pages[0].evaluate(() => window.node.getStatus().compute);
  expect(status.activeJobs).toBe(0);
});

test('with redundancy 2 a lying peer\'s results are rejected and the output is still right', async ({ context }, testInfo) => {
  test.setTimeout(90_000);
  const room = uniqueRoom(testInfo);
  const { pages, ids } = await openStartedTabs(context, room, 3);
  await expectConnectedTo(pages[0], [ids[1], ids[2]]);
  await expectWorkersKnown(pages, ids);
  // Every tab offers 'collatz'; the third registers a module of its own
  // under that name, whose answers are well-formed and one step off, as a
  // faulty or malicious peer's would be.
  for (const page of pages.slice(0, 2)) {
    await page.evaluate(() => window.node.getComputeManager().registerTask('collatz', { module: '/tasks/collatz.js', export: 'longestChain' }));
  }
  await pages[2].evaluate(() => {
    const source = `import { longestChain } from '${location.origin}/tasks/collatz.js';
      export function lie(input) { const best = longestChain(input); return { ...best, steps: best.steps + 1 }; }`;
    const module = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    window.node.getComputeManager().registerTask('collatz', { module, export: 'lie' });
  });
  const liar = ids[2];
  for (const [i, page] of pages.entries()) {
    for (const other of ids.filter((_, j) => j !== i)) {
      await expect.poll(() => page.evaluate((o) => window.node.getComputeManager().getCapabilities().peers[o].tasks, other)).toContain('collatz');
    }
  }

  const inputs = Array.from({ length: 24 }, (_, i) => ({ from: 1 + i * 10_000, to: 1 + (i + 1) * 10_000 }));
  const result = await runJob(pages[0], 'collatz', inputs, { redundancy: 2 });
  // The honest function, run here in Node, is the reference.
  const { longestChain } = await import('../web/tasks/collatz.js');
  expect(result.outputs).toEqual(inputs.map(longestChain));
  expect(result.stats.rejectedResults).toBeGreaterThan(0);
  expect(result.stats.distrustedPeers).toEqual([liar]);
  expect(result.stats.unitsByPeer[liar] ?? 0).toBe(0);
  // Each accepted unit was computed by two distinct honest peers.
  for (const owners of result.owners) expect([...owners].sort()).toEqual([ids[0], ids[1]].sort());
  const liarSeen = await pages[0].evaluate((l) => window.node.getComputeManager().getCapabilities().peers[l].rejectedResults, liar);
  expect(liarSeen).toBeGreaterThan(0);
});

test('an app task from an ES module runs in the workers of the tabs that registered it', async ({ context }, testInfo) => {
  test.setTimeout(60_000);
  const room = uniqueRoom(testInfo);
  const { pages, ids } = await openStartedTabs(context, room, 3);
  await expectConnectedTo(pages[0], [ids[1], ids[2]]);
  await expectWorkersKnown(pages, ids);
  // Tabs A and B register it; C does not, so C must get none of its units.
  for (const page of pages.slice(0, 2)) {
    await page.evaluate(() => window.node.getComputeManager().registerTask('collatz', { module: '/tasks/collatz.js', export: 'longestChain' }));
  }
  await expect.poll(() => pages[0].evaluate((b) => window.node.getComputeManager().getCapabilities().peers[b].tasks, ids[1])).toContain('collatz');

  const inputs = Array.from({ length: 24 }, (_, i) => ({ from: 1 + i * 20_000, to: 1 + (i + 1) * 20_000 }));
  const result = await runJob(pages[0], 'collatz', inputs);
  // The same function, run here in Node, is the reference.
  const { longestChain } = await import('../web/tasks/collatz.js');
  expect(result.outputs).toEqual(inputs.map(longestChain));
  expect(result.stats.unitsByPeer[ids[0]] ?? 0).toBeGreaterThan(0);
  expect(result.stats.unitsByPeer[ids[1]] ?? 0).toBeGreaterThan(0);
  expect(result.stats.unitsByPeer[ids[2]] ?? 0).toBe(0);
  // The units ran in Web Workers, off the page's main thread.
  expect(await pages[0].evaluate(() => window.node.getComputeManager().getCapabilities().usesWebWorkers)).toBe(true);
});

test('bad input gets a clear error and leaves other jobs unharmed', async ({ context }, testInfo) => {
  const page = await openTab(context, uniqueRoom(testInfo));
  await startConfiguredNode(page, { roomId: uniqueRoom(testInfo), enablePersistence: false });
  const errors = await page.evaluate(async () => {
    const cm = window.node.getComputeManager();
    cm.registerTask('throws', { module: '/tasks/collatz.js', export: 'alwaysThrows' });
    cm.registerTask('notData', { module: '/tasks/collatz.js', export: 'returnsFunction' });
    cm.registerTask('missing', { module: '/tasks/no-such-module.js', export: 'fn' });
    // A good job runs through all of it.
    const good = cm.submitJob('countPrimes', [{ from: 0, to: 1000 }, { from: 1000, to: 2000 }]);
    const caught = {};
    const attempt = (name, fn) => {
      try {
        fn();
        caught[name] = 'no error';
      } catch (e) {
        caught[name] = `${e.name}: ${e.message}`;
      }
    };
    attempt('unknown', () => cm.submitJob('noSuchTask', [1]));
    attempt('notArray', () => cm.submitJob('countPrimes', { from: 0 }));
    attempt('function', () => cm.submitJob('countPrimes', [{ from: 0, to: 5 }, { f() {} }]));
    attempt('date', () => cm.submitJob('countPrimes', [new Date()]));
    attempt('oversized', () => cm.submitJob('countPrimes', [new Uint8Array(17 * 1024 * 1024)]));
    attempt('option', () => cm.submitJob('countPrimes', [], { redundancy: 0 }));
    attempt('register', () => cm.registerTask('bad name!', { module: '/x.js', export: 'f' }));
    // A built-in task checks its inputs at submission: no job, no attempts.
    attempt('badInput', () => cm.submitJob('mandelbrot', [{ x0: -2, y0: -1, dx: 0.01, dy: 0.01, width: 8, height: 8, maxIter: 50 }, { x0: 'left' }]));
    const failure = async (name, input) => {
      try {
        await cm.submitJob(name, [input], { maxAttempts: 2 }).result;
        return 'no error';
      } catch (e) {
        return e.message;
      }
    };
    caught.throws = await failure('throws', {});
    caught.notData = await failure('notData', {});
    caught.missing = await failure('missing', {});
    caught.good = await good.result;
    return caught;
  });
  expect(errors.unknown).toMatch(/unknown task 'noSuchTask'/);
  expect(errors.notArray).toMatch(/TypeError: .*inputs must be an array/);
  expect(errors.function).toMatch(/inputs\[1\]\.f is a function, not data/);
  expect(errors.date).toMatch(/inputs\[0\] is a Date, not data/);
  expect(errors.oversized).toMatch(/inputs\[0\] is \d+ bytes, over the limit/);
  expect(errors.option).toMatch(/options\.redundancy must be an integer/);
  expect(errors.register).toMatch(/registerTask.*name must be/);
  expect(errors.throws).toMatch(/throws: this task always fails/);
  expect(errors.notData).toMatch(/result\.f is a function, not data/);
  expect(errors.missing).toMatch(/could not import .*no-such-module\.js/);
  expect(errors.badInput).toMatch(/^Error: submitJob\(name, inputs, options\): inputs\[1\]: mandelbrot: input\.x0 must be a number$/);
  expect(errors.good).toEqual([168, 135]);
});

// A worker gets its next unit while it runs one. Cancelling the running unit
// terminates the worker; the unit queued behind it must not be lost with it
// but go on in a fresh worker, and finish long before the cancelled one
// would have.
test('cancelling the unit a worker runs lets the unit queued behind it finish in a fresh worker', async ({ context }, testInfo) => {
  const page = await openTab(context, uniqueRoom(testInfo));
  await startConfiguredNode(page, { roomId: uniqueRoom(testInfo), enablePersistence: false, computeWorkers: 1 });
  const outcome = await page.evaluate(async () => {
    const cm = window.node.getComputeManager();
    const compute = () => window.node.getStatus().compute;
    // Inside the main cardioid nothing escapes: 64x64 pixels x 2e6 iterations runs for many seconds.
    const slow = cm.submitJob('mandelbrot', [{ x0: -0.3, y0: -0.1, dx: 0.001, dy: 0.001, width: 64, height: 64, maxIter: 2_000_000 }]);
    const slowEnd = slow.result.then(
      () => 'resolved',
      (e) => e.name,
    );
    const quick = cm.submitJob('countPrimes', [{ from: 0, to: 1000 }]);
    let quickDoneAt = null;
    const quickResult = quick.result.then((r) => ((quickDoneAt = performance.now()), r));
    const handed = compute().running;
    await new Promise((r) => setTimeout(r, 500));
    const waitingBehind = quickDoneAt === null;
    const cancelledAt = performance.now();
    slow.cancel();
    const [result, slowOutcome] = await Promise.all([quickResult, slowEnd]);
    await new Promise((r) => setTimeout(r, 50));
    return { handed, waitingBehind, result, slowOutcome, afterCancelMs: quickDoneAt - cancelledAt, status: compute() };
  });
  expect(outcome.handed, 'both units are with the one worker: one running, one queued').toBe(2);
  expect(outcome.waitingBehind, 'the quick unit waits behind the slow one').toBe(true);
  expect(outcome.slowOutcome).toBe('AbortError');
  expect(outcome.result).toEqual([168]);
  expect(outcome.afterCancelMs).toBeLessThan(3_000);
  expect(outcome.status).toMatchObject({ workers: 1, running: 0, queued: 0 });
});

// A unit cancelled while it waits in a worker's queue is taken out of it: the
// worker goes on to the next unit instead of running the cancelled one.
test('a unit cancelled while queued in a worker is skipped there', async ({ context }, testInfo) => {
  const page = await openTab(context, uniqueRoom(testInfo));
  await startConfiguredNode(page, { roomId: uniqueRoom(testInfo), enablePersistence: false, computeWorkers: 1 });
  const outcome = await page.evaluate(async () => {
    const cm = window.node.getComputeManager();
    // Inside the main cardioid every pixel runs to maxIter: here about 2.5 s per 100,000 at 64x64.
    const tile = (maxIter) => ({ x0: -0.3, y0: -0.1, dx: 0.001, dy: 0.001, width: 64, height: 64, maxIter });
    const t0 = performance.now();
    const first = cm.submitJob('mandelbrot', [tile(50_000)]);
    const firstDone = first.result.then(() => performance.now() - t0);
    const long = cm.submitJob('mandelbrot', [tile(5_000_000)]); // queued behind the first; minutes alone
    const longEnd = long.result.then(
      () => 'resolved',
      (e) => e.name,
    );
    const handedBefore = window.node.getStatus().compute.running;
    long.cancel();
    const quick = cm.submitJob('countPrimes', [{ from: 0, to: 1000 }]);
    const quickDone = quick.result.then((r) => ({ r, at: performance.now() - t0 }));
    const [firstMs, longOutcome, q] = await Promise.all([firstDone, longEnd, quickDone]);
    return { handedBefore, firstMs, longOutcome, quick: q.r, quickMs: q.at };
  });
  expect(outcome.handedBefore, 'the first unit running, the long one queued').toBe(2);
  expect(outcome.longOutcome).toBe('AbortError');
  expect(outcome.quick).toEqual([168]);
  expect(outcome.firstMs, 'the first unit ran long enough for the others to queue behind it').toBeGreaterThan(300);
  // The long unit alone would take minutes; the quick one followed the first at once.
  expect(outcome.quickMs - outcome.firstMs).toBeLessThan(2_000);
});

// An app task whose unit never ends. Only its name travels: each tab
// registers it from this module of its own.
const SPIN_MODULE = `data:text/javascript,${encodeURIComponent('export function spin() { for (;;) {} }')}`;

// Records, before the node's pool makes any, each Web Worker the page
// starts: when it was made, when its unit's task began (the pool's 'started'
// message) and when it was terminated.
function recordWorkers(page) {
  return page.evaluate(() => {
    const Native = window.Worker;
    window.__workers = [];
    window.Worker = class extends Native {
      constructor(...args) {
        super(...args);
        const record = { madeAt: performance.now(), startedAt: null, terminatedAt: null };
        this.record = record;
        window.__workers.push(record);
        this.addEventListener('message', ({ data }) => {
          if (data.started !== undefined) record.startedAt ??= performance.now();
        });
      }
      terminate() {
        this.record.terminatedAt ??= performance.now();
        super.terminate();
      }
    };
  });
}

// A unit a peer runs may take at most maxUnitMs of the runner's CPU: past
// it the worker is terminated and replaced, and the owner's job learns why.
// The lease timeout (8 s) is far longer than the budget (300 ms), so were the
// budget ignored, the job would fail late, for the timeout, and the runner's
// worker would be stopped only by the owner's cancel.
test('a peer\'s unit that runs past maxUnitMs is stopped within its budget, the job learns why, and the peer works on', async ({ context }, testInfo) => {
  test.setTimeout(60_000);
  const room = uniqueRoom(testInfo);
  const owner = await openTab(context, room);
  const runner = await openTab(context, room);
  await recordWorkers(runner);
  // The owner runs nothing itself, so every unit goes to the runner.
  const idOwner = await startConfiguredNode(owner, { roomId: room, enablePersistence: false, computeWorkers: 0 });
  const idRunner = await startConfiguredNode(runner, { roomId: room, enablePersistence: false, computeWorkers: 1, maxUnitMs: 300 });
  await expectConnectedTo(owner, [idRunner]);
  for (const page of [owner, runner]) {
    await page.evaluate((module) => window.node.getComputeManager().registerTask('spin', { module, export: 'spin' }), SPIN_MODULE);
  }
  await expect.poll(() => owner.evaluate((r) => window.node.getComputeManager().getCapabilities().peers[r]?.tasks ?? [], idRunner)).toContain('spin');
  expect(await runner.evaluate(() => window.node.config.maxUnitMs)).toBe(300);

  const failed = await owner.evaluate(async () => {
    const t0 = performance.now();
    const job = window.node.getComputeManager().submitJob('spin', [{}], { timeoutMs: 8_000, maxAttempts: 2 });
    try {
      await job.result;
      return { message: 'resolved', ms: performance.now() - t0 };
    } catch (error) {
      return { message: error.message, ms: performance.now() - t0, stats: job.stats };
    }
  });
  expect(failed.message).toMatch(/unit 0 failed 2 times; last: .*spin: the unit ran past its CPU budget of 300 ms and was stopped \(the maxUnitMs option/);
  expect(failed.ms, 'two attempts of about 300 ms each, not two 8 s lease timeouts').toBeLessThan(4_000);
  expect(failed.stats.retries).toBe(1);

  // At the runner: two workers, each terminated about 300 ms after its unit began.
  const afterSpin = await runner.evaluate(() => ({ workers: window.__workers, compute: window.node.getStatus().compute }));
  expect(afterSpin.workers).toHaveLength(2);
  for (const w of afterSpin.workers) {
    expect(w.startedAt).not.toBeNull();
    expect(w.terminatedAt).not.toBeNull();
    expect(w.terminatedAt - w.startedAt).toBeGreaterThanOrEqual(290);
    expect(w.terminatedAt - w.startedAt).toBeLessThan(1_500);
  }
  // Both answered (as failures): neither was cancelled, and the worker slot is free again.
  expect(afterSpin.compute).toMatchObject({ workers: 1, running: 0, queued: 0, completed: 2 });

  // The runner still works for the owner: a built-in unit, in a fresh worker.
  const tile = await owner.evaluate(async (r) => {
    const job = window.node.getComputeManager().submitJob('mandelbrot', [{ x0: -2, y0: -1, dx: 0.05, dy: 0.05, width: 40, height: 40, maxIter: 200 }]);
    const [out] = await job.result;
    return { length: out.length, first: out[0], byPeer: job.stats.unitsByPeer[r] };
  }, idRunner);
  expect(tile).toEqual({ length: 1600, first: 1, byPeer: 1 });
  const workers = await runner.evaluate(() => window.__workers);
  expect(workers).toHaveLength(3);
  expect(workers[2].terminatedAt).toBeNull();

  // The runner's own units have no budget: its own spin runs on until cancelled.
  const own = await runner.evaluate(async () => {
    const cm = window.node.getComputeManager();
    const job = cm.submitJob('spin', [{}]);
    const outcome = job.result.then(() => 'resolved', (e) => e.name);
    await new Promise((r) => setTimeout(r, 1_000));
    const stillRunning = window.node.getStatus().compute.running;
    const live = window.__workers.filter((w) => w.terminatedAt === null).length;
    job.cancel();
    return { stillRunning, live, outcome: await outcome };
  });
  expect(own).toEqual({ stillRunning: 1, live: 1, outcome: 'AbortError' });
  expect(idOwner).not.toBe(idRunner);
});
