// The Web Worker that runs compute units off the page's main thread, one at
// a time; the WorkerPool hands it a unit only when it is idle.
import { runTask } from './task-runner.js';

self.onmessage = async ({ data }) => {
  const { exec, spec, input } = data;
  const outcome = await runTask(spec, input);
  self.postMessage({ exec, ...outcome }, outcome.ok ? [outcome.bytes.buffer] : []);
};
