// Compute workers in Node.js: worker_threads behind the part of the Web
// Worker interface that WorkerPool uses (onmessage, onerror, postMessage,
// terminate), so the pool, the worker script (task-worker.js) and the
// budgets work as in a browser. A thread that holds no unit is unref'd, so
// an idle pool never keeps the process alive; one running units is ref'd,
// so a script awaiting a job's result is not cut short.
//
// node:worker_threads is imported only here, only in Node, by a specifier
// that bundlers do not follow.

const THREADS = 'node:worker_threads';
const importModule = (specifier) => import(/* @vite-ignore */ specifier);

// A thread inherits the process's Node options, except those about the
// process's own entry, which would break the thread's (`node --input-type=
// module -e '…'` would give every thread the same error).
export function threadExecArgv(execArgv = process.execArgv) {
  const kept = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (['-e', '--eval', '-p', '--print'].includes(arg)) i++; // and its script
    else if (!arg.startsWith('--input-type') && !/^(--eval|--print)=/.test(arg)) kept.push(arg);
  }
  return kept;
}

// The Worker-like class, for WorkerPool.
export async function loadThreadWorker() {
  const { Worker } = await importModule(THREADS);
  return class ThreadWorker {
    #thread;
    onmessage = null;
    onerror = null;

    constructor(url, { name } = {}) {
      this.#thread = new Worker(url instanceof URL ? url : new URL(String(url)), { name, execArgv: threadExecArgv() });
      this.#thread.unref();
      this.#thread.on('message', (data) => this.onmessage?.({ data }));
      // A script that failed to load or threw: the event a browser raises.
      this.#thread.on('error', (error) => this.onerror?.({ message: error?.message ?? String(error), error, preventDefault() {} }));
    }

    postMessage(data, transfer) {
      this.#thread.postMessage(data, transfer);
    }

    terminate() {
      this.#thread.terminate();
    }

    // Whether the thread keeps the process alive (WorkerPool: while it holds units).
    hold(busy) {
      if (busy) this.#thread.ref();
      else this.#thread.unref();
    }
  };
}

// In a worker thread: what task-worker.js needs of a Web Worker's global
// scope, over the thread's parentPort.
export async function threadScope() {
  const { parentPort } = await importModule(THREADS);
  return {
    postMessage: (data, transfer) => parentPort.postMessage(data, transfer),
    set onmessage(handler) {
      parentPort.on('message', (data) => handler({ data }));
    },
  };
}
