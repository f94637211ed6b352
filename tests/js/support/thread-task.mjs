// App tasks for tests/js/node-threads.test.mjs: which thread runs a unit,
// and a unit that never ends on its own.
import { threadId } from 'node:worker_threads';

export function whichThread() {
  return threadId;
}

export function spinForever() {
  for (;;);
}
