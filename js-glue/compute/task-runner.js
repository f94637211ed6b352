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

// spec: {kind: 'builtin', name} or {kind: 'module', name, module, export}.
// Returns {ok: true, bytes} with the result as task data, or {ok: false, error}.
// onStart(), if given, is called once what the unit needs is loaded (the wasm
// module, the task's ES module), just before the task itself runs: a unit's
// CPU budget counts from there.
export async function runTask(spec, input, onStart = null) {
  try {
    if (spec.kind === 'builtin') {
      const core = await loadCore();
      onStart?.();
      const out = core.runBuiltinTask(spec.name, input);
      return typeof out === 'string' ? { ok: false, error: out } : { ok: true, bytes: out.slice() };
    }
    const fn = await taskFunction(spec);
    onStart?.();
    const result = await fn(decodeTaskData(input));
    return { ok: true, bytes: encodeTaskData(result, 'result') };
  } catch (error) {
    return { ok: false, error: `${spec.name}: ${error?.message ?? String(error)}` };
  }
}
