// ComputeManager: the page's side of distributed compute. The kernel
// schedules (compute/work_scheduler.h); this encodes inputs, runs the units
// the kernel hands to this node in its WorkerPool, and turns the kernel's
// progress into ComputeJob events and promises.
import { EventEmitter } from '../event-emitter.js';
import { decodeTaskData, encodeTaskData } from './task-data.js';
// Generated into dist/host/ by scripts/build.sh (wasm/host/host_interface.json).
import { taskInputBatchBound, writeTaskInputBatch } from '../host/input-batches.js';
import { WorkerPool } from './worker-pool.js';
import { describeCharacters, escapeForClass } from '../config.js';
// The kernel's rules for task names and job options (wasm/rules/app_rules.h).
import { KERNEL_RULES } from '../rules/kernel-rules.js';

const { taskName: NAME_RULE, job: JOB_RULE } = KERNEL_RULES;
const TASK_NAME = new RegExp(`^[${escapeForClass(NAME_RULE.characters)}]{1,${NAME_RULE.maxLength}}$`);
const JOB_OPTIONS = ['redundancy', 'timeoutMs', 'maxAttempts'];
export const DEFAULT_JOB_OPTIONS = Object.freeze({ redundancy: 1, timeoutMs: 30_000, maxAttempts: 3 });
const utf8 = new TextEncoder();

// One submitted job: `result` resolves to the outputs in input order.
export class ComputeJob {
  #emitter = new EventEmitter();
  #manager;
  #outputs;
  #byPeer = {};
  #done = 0;
  #finalStats = null;
  #settle;

  constructor(manager, id, name, total) {
    this.#manager = manager;
    this.id = id;
    this.name = name;
    this.total = total;
    this.#outputs = new Array(total);
    this.result = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
  }

  get done() {
    return this.#done;
  }

  get isFinished() {
    return this.#finalStats !== null;
  }

  // Units done per peer, retries, and results rejected by the quorum.
  get stats() {
    const s = this.#finalStats ?? this.#manager.jobStats(this.id);
    return { done: s.done, total: s.total, unitsByPeer: s.unitsByPeer, retries: s.retries, rejectedResults: s.rejectedResults, distrustedPeers: s.distrustedPeers };
  }

  // 'progress' ({done, total, byPeer, index, peerId, peers, output}) after each
  // accepted unit; 'done' (outputs); 'error' (Error).
  on(event, listener) {
    return this.#emitter.on(event, listener);
  }

  off(event, listener) {
    this.#emitter.off(event, listener);
  }

  // Stops the job: leases are revoked and `result` rejects with an AbortError.
  cancel() {
    if (this.isFinished) return false;
    this.result.catch(() => {}); // the caller asked for it: not an unhandled rejection
    this.#manager.cancelJob(this.id);
    return true;
  }

  _progress({ unit, done, total, peers, output }) {
    let value;
    try {
      value = decodeTaskData(output);
    } catch (error) {
      // The kernel checks results are well-formed, so this is a bug, not a peer.
      this.#manager.cancelJob(this.id);
      this.#fail(new Error(`job ${this.name}#${this.id}: unit ${unit}: ${error.message}`));
      return;
    }
    this.#outputs[unit] = value;
    this.#done = done;
    for (const peer of peers) this.#byPeer[peer] = (this.#byPeer[peer] ?? 0) + 1;
    this.#emitter.emit('progress', { done, total, byPeer: { ...this.#byPeer }, index: unit, peerId: peers[0], peers, output: value });
  }

  _finish({ ok, error, stats }) {
    if (this.isFinished) return;
    this.#finalStats = JSON.parse(stats);
    if (ok) {
      this.#settle.resolve(this.#outputs);
      this.#emitter.emit('done', this.#outputs);
      return;
    }
    const failure = new Error(`job ${this.name}#${this.id} ${error === 'cancelled' ? 'was cancelled' : `failed: ${error}`}`);
    if (error === 'cancelled') failure.name = 'AbortError';
    this.#fail(failure);
  }

  #fail(error) {
    this.#finalStats ??= this.#manager.jobStats(this.id) ?? { done: this.#done, total: this.total, unitsByPeer: {}, retries: 0, rejectedResults: 0, distrustedPeers: [] };
    // An app that listens for 'error' has been told: `result` may go
    // unawaited without an unhandled rejection (which ends a Node process).
    if (this.#emitter.listenerCount('error') > 0) this.result.catch(() => {});
    this.#settle.reject(error);
    this.#emitter.emit('error', error);
  }
}

export class ComputeManager {
  #driver;
  #selfId;
  #core;
  #pool;
  #tasks = new Map(); // app task name -> {kind: 'module', name, module, export}
  #jobs = new Map();
  #early = new Map(); // job id -> outputs that came before submitJob() returned

  // assetBaseUrl: null, or where a copy of the package's dist/bundle/ is (the
  // worker script is task-worker.js there).
  // WorkerClass: undefined for the browser's Worker; in Node.js worker threads (node-threads.js).
  constructor(driver, core, workers, selfId, assetBaseUrl = null, WorkerClass = undefined) {
    this.#driver = driver;
    this.#selfId = selfId;
    this.#core = core;
    const workerUrl = assetBaseUrl ? new URL('task-worker.js', assetBaseUrl) : null;
    this.#pool = new WorkerPool(workers, (exec, outcome) => this.#answer(exec, outcome), workerUrl, WorkerClass);
  }

  // An app task: an ES module (URL, resolved against the page) that every
  // worker imports, and the name of its exported function, which takes an
  // input and returns (or resolves to) the result. Only the name travels.
  registerTask(name, spec) {
    const where = 'registerTask(name, {module, export})';
    if (typeof name !== 'string' || !TASK_NAME.test(name)) throw new TypeError(`${where}: name must be 1-${NAME_RULE.maxLength} characters of ${describeCharacters(NAME_RULE.characters)}`);
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError(`${where}: the second argument must be an object {module: url, export: 'functionName'}`);
    for (const key of Object.keys(spec)) {
      if (key !== 'module' && key !== 'export') throw new TypeError(`${where}: unknown option '${key}'; the options are module and export`);
    }
    if (typeof spec.module !== 'string' && !(spec.module instanceof URL)) throw new TypeError(`${where}: module must be the URL of an ES module`);
    const exportName = spec.export ?? 'default';
    if (typeof exportName !== 'string' || exportName === '') throw new TypeError(`${where}: export must be the name of the module's exported function`);
    let url;
    try {
      url = new URL(String(spec.module), globalThis.location?.href ?? import.meta.url).href;
    } catch {
      throw new TypeError(`${where}: module '${spec.module}' is not a valid URL`);
    }
    const error = this.#driver.input((k, t) => k.registerTask(name, t));
    if (error) throw new Error(`${where}: ${error}`);
    this.#tasks.set(name, { kind: 'module', name, module: url, export: exportName });
    return this;
  }

  // This node's workers and tasks, and what each peer advertised.
  getCapabilities() {
    const compute = JSON.parse(this.#driver.kernel.status()).compute;
    const builtinTasks = [...this.#core.builtinTaskNames()];
    const peers = {};
    const self = this.#selfId;
    for (const [peerId, p] of Object.entries(JSON.parse(this.#driver.kernel.computePeers()))) {
      if (peerId !== self) peers[peerId] = { workers: p.workers, tasks: p.tasks, msPerUnit: p.msPerUnit, roundTripMs: p.roundTripMs, unitsDone: p.unitsDone, rejectedResults: p.rejectedResults };
    }
    return {
      workers: compute.workers,
      tasks: compute.tasks,
      builtinTasks,
      registeredTasks: [...this.#tasks.keys()],
      maxTaskDataBytes: compute.maxTaskDataBytes,
      usesWebWorkers: this.#pool.usesWorkers,
      peers,
    };
  }

  // Splits work into units, one per input, run across this node and its
  // peers. Returns a ComputeJob at once; job.result resolves to the outputs.
  submitJob(name, inputs, options = {}) {
    const where = 'submitJob(name, inputs, options)';
    if (typeof name !== 'string' || !TASK_NAME.test(name)) throw new TypeError(`${where}: name must be a task name such as 'mandelbrot'`);
    if (!Array.isArray(inputs)) throw new TypeError(`${where}: inputs must be an array, one input per work unit`);
    if (inputs.length > JOB_RULE.maxUnits) throw new RangeError(`${where}: a job holds at most ${JOB_RULE.maxUnits} units; got ${inputs.length} inputs`);
    const opts = jobOptions(options, where);
    const encoded = inputs.map((input, i) => {
      try {
        return encodeTaskData(input, `inputs[${i}]`);
      } catch (error) {
        throw new TypeError(`${where}: ${error.message}`);
      }
    });
    const out = this.#driver.inputBatch(
      taskInputBatchBound(encoded),
      (heap, at) => writeTaskInputBatch(heap, at, encoded),
      (k, size, t) => k.submitJob(name, size, opts.redundancy, opts.timeoutMs, opts.maxAttempts, t),
    );
    if (typeof out === 'string') throw new Error(`${where}: ${out}`);
    const job = new ComputeJob(this, out, name, inputs.length);
    this.#jobs.set(out, job);
    for (const output of this.#early.get(out) ?? []) this.handleOutput(output);
    this.#early.delete(out);
    return job;
  }

  // The original library's shape: one task, one result.
  async submitTask(task) {
    const where = 'submitTask(task)';
    if (task === null || typeof task !== 'object' || Array.isArray(task)) throw new TypeError(`${where}: task must be an object {id, type, data}`);
    if (typeof task.type !== 'string') throw new TypeError(`${where}: task.type must be the name of a task, such as 'mandelbrot'`);
    if (!('data' in task)) throw new TypeError(`${where}: task.data is missing; it is the task's input`);
    const job = this.submitJob(task.type, [task.data], task.options ?? {});
    const [result] = await job.result;
    return result;
  }

  cancelJob(id) {
    this.#driver.input((k, t) => k.cancelJob(id, t));
  }

  jobStats(id) {
    return JSON.parse(this.#driver.kernel.jobStats(id));
  }

  // Kernel outputs of the compute kind.
  handleOutput(output) {
    switch (output.type) {
      case 'run-task':
        this.#run(output);
        return;
      case 'cancel-task':
        this.#pool.cancel(output.exec);
        return;
      case 'job-progress':
      case 'job-finished': {
        const job = this.#jobs.get(output.job);
        if (!job) {
          if (!this.#early.has(output.job)) this.#early.set(output.job, []);
          this.#early.get(output.job).push(output);
          return;
        }
        if (output.type === 'job-progress') job._progress(output);
        else {
          this.#jobs.delete(output.job);
          job._finish(output);
        }
        return;
      }
    }
  }

  close() {
    this.#pool.close();
  }

  // budgetMs: for a peer's unit, this node's maxUnitMs (0 for its own): the
  // pool stops the unit past it, where it runs in a Web Worker.
  #run({ exec, task, input, budgetMs }) {
    const spec = this.#tasks.get(task) ?? { kind: 'builtin', name: task };
    this.#pool.run(exec, spec, input, budgetMs ?? 0);
  }

  #answer(exec, outcome) {
    const bytes = outcome.ok ? outcome.bytes : utf8.encode(outcome.error);
    this.#driver.inputBytes(bytes, (k, size, t) => k.handleTaskResult(exec, outcome.ok, size, outcome.runMs ?? 0, t));
  }

}

function jobOptions(options, where) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${where}: options must be an object such as {redundancy: 2}`);
  for (const key of Object.keys(options)) {
    if (!JOB_OPTIONS.includes(key)) throw new TypeError(`${where}: options.${key} is not an option; the options are ${JOB_OPTIONS.join(', ')}`);
  }
  const opts = { ...DEFAULT_JOB_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  for (const option of ['redundancy', 'maxAttempts']) {
    const { min, max } = JOB_RULE[option];
    if (!Number.isInteger(opts[option]) || opts[option] < min || opts[option] > max) throw new TypeError(`${where}: options.${option} must be an integer in ${min}..${max}`);
  }
  if (typeof opts.timeoutMs !== 'number' || !(opts.timeoutMs > 0) || !Number.isFinite(opts.timeoutMs)) throw new TypeError(`${where}: options.timeoutMs must be a positive number of milliseconds`);
  return opts;
}
