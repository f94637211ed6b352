// The compute worker's own queue (task-worker.js), run in Node with a
// stand-in for the worker's global scope: a unit cancelled after it was
// posted but before the worker's slice began leaves nothing to run, and the
// worker must stay ready for the next units. (It once read the missing unit,
// threw, and never ran another: a render then waited on the unit's timeout.)
// Each test file runs in a process of its own, so the stand-in stays here.
import assert from 'node:assert/strict';
import { it } from 'node:test';

// The worker wakes itself through a MessageChannel, whose port would keep
// this process alive after the test: unref it once the worker has set it up.
const RealMessageChannel = globalThis.MessageChannel;
globalThis.MessageChannel = class extends RealMessageChannel {
  constructor() {
    super();
    queueMicrotask(() => this.port1.unref());
  }
};

const posted = [];
let waiting = null;
globalThis.self = {
  postMessage(message) {
    posted.push(message);
    waiting?.();
  },
  onmessage: null,
};
await import('../../dist/compute/task-worker.js');
const { encodeTaskData, decodeTaskData } = await import('../../dist/compute/task-data.js');

const send = (data) => self.onmessage({ data });
const spec = { kind: 'module', name: 'double', module: 'data:text/javascript,export const double = (x) => 2 * x;', export: 'double' };
const unit = (exec, input) => ({ exec, spec, input: encodeTaskData(input), timed: false });

async function nextResults() {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = posted.findIndex((m) => m.results);
    if (found >= 0) return posted.splice(found, 1)[0].results;
    assert.ok(Date.now() < deadline, `no results; the worker posted ${JSON.stringify(posted)}`);
    await new Promise((resolve) => {
      waiting = resolve;
      setTimeout(resolve, 50);
    });
  }
}

it('a unit cancelled before its slice starts leaves the worker ready for the next', async () => {
  assert.deepEqual(posted.splice(0), [{ loaded: true }]);
  const failures = [];
  const onError = (error) => failures.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    send({ runs: [unit(1, 20)] });
    send({ cancel: 1 }); // read before the slice the first message scheduled
    await new Promise((resolve) => setTimeout(resolve, 20)); // that slice finds nothing to run
    send({ runs: [unit(2, 21)] });
    const results = await nextResults();
    assert.deepEqual(results.map((r) => [r.exec, r.ok, decodeTaskData(r.bytes)]), [[2, true, 42]]);
    assert.deepEqual(failures, []);
  } finally {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
});
