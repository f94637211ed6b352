// The Web Worker that runs compute units off the page's main thread, one at
// a time and in order. The WorkerPool may post the next unit while one runs;
// it waits here, and {cancel: exec} takes it out again. Each unit starts from
// its own task (a message to itself), so a cancel that arrived meanwhile is
// read before the unit it cancels would start. For a unit posted `timed`,
// {started: exec} tells the pool when its task begins to run, after its
// modules are loaded: the pool times the unit's CPU budget from there.
import { runTask } from './task-runner.js';

const queue = []; // {exec, spec, input}
let busy = false; // a unit is running, or about to start
const wake = new MessageChannel();

function schedule() {
  if (busy || queue.length === 0) return;
  busy = true;
  wake.port2.postMessage(null);
}

wake.port1.onmessage = async () => {
  const unit = queue.shift();
  if (unit) {
    const onStart = unit.timed ? () => self.postMessage({ started: unit.exec }) : undefined;
    const outcome = await runTask(unit.spec, unit.input, onStart);
    self.postMessage({ exec: unit.exec, ...outcome }, outcome.ok ? [outcome.bytes.buffer] : []);
  }
  busy = false;
  schedule();
};

self.onmessage = ({ data }) => {
  if (data.cancel !== undefined) {
    const index = queue.findIndex((unit) => unit.exec === data.cancel);
    if (index >= 0) queue.splice(index, 1);
    return;
  }
  queue.push({ exec: data.run, spec: data.spec, input: data.input, timed: data.timed === true });
  schedule();
};
