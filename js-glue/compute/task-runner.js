// Runs one unit of a task on task data, inside a Web Worker (or inline where
// there are none, as in Node). Built-in tasks run in the wasm module; an
// app's task is an export of an ES module the worker imports.
import { loadCore } from '../wasm-loader.js';
import { decodeTaskData, encodeTaskData } from './task-data.js';

const modules = new Map(); // url -> Promise of the module

async function taskFunction(spec) {
  if (!modules.has(spec.module)) modules.set(spec.module, import(/* @vite-ignore */ spec.module));
  let mod;
  try {
    mod = await modules.get(spec.module);
  } catch (error) {
    modules.delete(spec.module); // a later unit may find it reachable again
    throw new Error(`could not import ${spec.module}: ${error.message}`);
  }
  const fn = mod[spec.export];
  if (typeof fn !== 'function') throw new Error(`${spec.module} has no exported function '${spec.export}'`);
  return fn;
}

let core = null; // the wasm module, once loaded

// spec: {kind: 'builtin', name} or {kind: 'module', name, module, export}.
// Returns {ok: true, bytes, runMs} with the result as task data, or
// {ok: false, error, runMs}; runMs is how long the task itself ran (0 if it
// never started). onStart(), if given, is called once what the unit needs is
// loaded (the wasm module, the task's ES module), just before the task itself
// runs: a unit's CPU budget counts from there.
export async function runTask(spec, input, onStart = null) {
  let startedAt = null;
  const ran = () => (startedAt === null ? 0 : performance.now() - startedAt);
  try {
    if (spec.kind === 'builtin') {
      core ??= await loadCore();
      onStart?.();
      startedAt = performance.now();
      const out = core.runBuiltinTask(spec.name, input);
      if (typeof out === 'string') return { ok: false, error: out, runMs: ran() };
      const bytes = out.slice();
      return { ok: true, bytes, runMs: ran() };
    }
    const fn = await taskFunction(spec);
    onStart?.();
    startedAt = performance.now();
    const result = await fn(decodeTaskData(input));
    const bytes = encodeTaskData(result, 'result');
    return { ok: true, bytes, runMs: ran() };
  } catch (error) {
    return { ok: false, error: `${spec.name}: ${error?.message ?? String(error)}`, runMs: ran() };
  }
}
