// The Web Worker that runs compute units off the page's main thread, in
// order. The WorkerPool posts units in batches ({runs: [...]}), as many as
// the kernel lets this worker hold: one, or for small units up to about 4 ms
// of work. They wait here, and {cancel: exec} takes one out again.
//
// Units run from their own task (a message to itself), a run of them at a
// time for at most SLICE_MS, and the outcomes of that run go back in one
// message ({results: [...]}); so a cancel that arrived meanwhile is read
// before the unit it cancels would start, unless that unit is within the
// slice already under way. For a unit posted `timed`, {started: exec} tells
// the pool when its task begins to run, after its modules are loaded: the
// pool times the unit's CPU budget from there. Every outcome carries runMs,
// how long the task itself ran.
import { threadScope } from './node-threads.js';
import { runTask } from './task-runner.js';

// A Web Worker's global scope, or in a Node.js worker thread its stand-in
// (set below, once node:worker_threads is loaded; the thread's port holds
// messages until then). No top-level await: webpack ships this script as a
// classic worker chunk, where `await` is not a keyword.
let scope = typeof self === 'undefined' ? null : self;

const SLICE_MS = 2;
const queue = []; // {exec, spec, input, timed}
let busy = false; // a slice is running, or about to start
const wake = new MessageChannel();

function schedule() {
  if (busy || queue.length === 0) return;
  busy = true;
  wake.port2.postMessage(null);
}

wake.port1.onmessage = async () => {
  // A cancel read between schedule() and now may have emptied the queue.
  if (queue.length === 0) {
    busy = false;
    return;
  }
  const results = [];
  const transfer = [];
  const sliceStart = performance.now();
  do {
    const unit = queue.shift();
    const onStart = unit.timed ? () => scope.postMessage({ started: unit.exec }) : undefined;
    const outcome = await runTask(unit.spec, unit.input, onStart);
    results.push({ exec: unit.exec, ...outcome });
    if (outcome.ok) transfer.push(outcome.bytes.buffer);
  } while (queue.length > 0 && performance.now() - sliceStart < SLICE_MS);
  scope.postMessage({ results }, transfer);
  busy = false;
  schedule();
};

function onMessage({ data }) {
  if (data.cancel !== undefined) {
    const index = queue.findIndex((unit) => unit.exec === data.cancel);
    if (index >= 0) queue.splice(index, 1);
    return;
  }
  for (const run of data.runs) queue.push({ exec: run.exec, spec: run.spec, input: run.input, timed: run.timed === true });
  schedule();
}

// The script and its imports loaded: a failure from now on is a unit's or the
// worker's, not its loading's.
function listen(global) {
  scope = global;
  scope.onmessage = onMessage;
  scope.postMessage({ loaded: true });
}

if (scope) listen(scope);
else threadScope().then(listen);

