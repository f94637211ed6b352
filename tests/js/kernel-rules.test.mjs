// Every rule on application input is defined once, in the kernel
// (wasm/rules/app_rules.cpp, wasm/kernel/node_config.cpp), and the JS API
// checks input by the copy built into the package (dist/rules/kernel-rules.js).
// These tests put the same input to both and fail if one accepts what the
// other refuses, at each limit and one step past it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { DEFAULT_CONFIG, NodeKernel } from '../../dist/peercompute.js';
import { encodeTaskData, decodeTaskData } from '../../dist/compute/task-data.js';
import { kernelConfig, normalizeConfig } from '../../dist/config.js';
import { requireKey } from '../../dist/json-value.js';
import { taskInputBatchBound, writeTaskInputBatch } from '../../dist/host/input-batches.js';
import { KERNEL_RULES } from '../../dist/rules/kernel-rules.js';
import { loadCore } from '../../dist/wasm-loader.js';

let core;
before(async () => {
  core = await loadCore();
});

const rulesNow = () => JSON.parse(core.appRules());

function freshKernel() {
  const kernel = new core.Kernel();
  const bytes = crypto.getRandomValues(new Uint8Array(64));
  core.HEAPU8.set(bytes, kernel.inputBuffer(bytes.length));
  kernel.addEntropy(bytes.length);
  return kernel;
}

// What the kernel says of a config given as the JS API would pass it, or ''
// when it takes it. Defaults the JS API fills in for the host are filled here
// the same way, so only the option under test differs.
function kernelVerdict(options) {
  const merged = { ...DEFAULT_CONFIG, computeWorkers: 1, unitsQueuedPerWorker: 0, ...options };
  const settings = kernelConfig(merged, merged.nodeId ?? 'node-a', 1, 'ab');
  const kernel = freshKernel();
  try {
    return kernel.initialize(JSON.stringify(settings), 0);
  } finally {
    kernel.delete();
  }
}

function jsVerdict(options) {
  try {
    normalizeConfig(options);
    return '';
  } catch (error) {
    assert.equal(error.name, 'TypeError');
    assert.match(error.message, /^config\.\w+/, 'the error names the option');
    return error.message;
  }
}

function assertAgree(options, label) {
  const js = jsVerdict(options);
  const kernel = kernelVerdict(options);
  assert.equal(js === '', kernel === '', `${label}: the JS API says ${js || 'ok'}; the kernel says ${kernel || 'ok'}`);
  return js === '';
}

describe('the rules built into the package', () => {
  it('are the kernel’s rules, as the wasm module reports them now', () => {
    assert.deepEqual(KERNEL_RULES, rulesNow());
  });
});

describe('config: the JS API and the kernel accept the same configs', () => {
  const room = KERNEL_RULES.config.room.maxBytes;

  it('roomId: at the kernel’s byte limit, and one byte past it, in ASCII and in 3-byte characters', () => {
    assert.equal(assertAgree({ roomId: 'r'.repeat(room) }, 'ASCII at the limit'), true);
    assert.equal(assertAgree({ roomId: 'r'.repeat(room + 1) }, 'ASCII past the limit'), false);
    const euros = Math.floor(room / 3);
    assert.equal(assertAgree({ roomId: '€'.repeat(euros) }, '€ within the limit'), true);
    assert.equal(assertAgree({ roomId: '€'.repeat(euros + 1) }, '€ past the limit'), false);
  });

  it('roomId with gameId: the room the kernel sees joins the two', () => {
    const overhead = JSON.stringify(['g', '']).length;
    assert.equal(assertAgree({ gameId: 'g', roomId: 'r'.repeat(room - overhead) }, 'joined at the limit'), true);
    assert.equal(assertAgree({ gameId: 'g', roomId: 'r'.repeat(room - overhead + 1) }, 'joined past the limit'), false);
    assert.match(jsVerdict({ gameId: 'g', roomId: 'r'.repeat(room) }), /^config\.roomId: with gameId/);
  });

  it('nodeId: its length and every character the kernel allows, and ones it does not', () => {
    const { maxLength, characters } = KERNEL_RULES.config.nodeId;
    assert.equal(assertAgree({ nodeId: 'n'.repeat(maxLength) }, 'at the limit'), true);
    assert.equal(assertAgree({ nodeId: 'n'.repeat(maxLength + 1) }, 'past the limit'), false);
    for (const c of characters) assert.equal(assertAgree({ nodeId: `n${c}` }, `'${c}'`), true);
    for (const c of ['.', ':', ' ', '/', 'é']) assert.equal(assertAgree({ nodeId: `n${c}` }, `'${c}'`), false);
  });

  it('topology', () => {
    for (const t of KERNEL_RULES.config.topologies) assert.equal(assertAgree({ topology: t }, t), true);
    assert.equal(assertAgree({ topology: 'star' }, 'star'), false);
  });

  it('every numeric option the app can set: the edges of its range, and a fraction where integers are asked', () => {
    const settable = Object.entries(KERNEL_RULES.config.numbers).filter(([option]) => option in DEFAULT_CONFIG);
    assert.ok(settable.length >= 8, `the app sets ${settable.map(([o]) => o).join(', ')}`);
    for (const [option, rule] of settable) {
      // peerTimeoutMs must also exceed pingIntervalMs; keep that out of the way.
      const base = option === 'pingIntervalMs' ? { peerTimeoutMs: 1e9 } : option === 'peerTimeoutMs' ? { pingIntervalMs: 1e-3 } : {};
      const verdict = (v) => assertAgree({ ...base, [option]: v }, `${option} = ${v}`);
      if (rule.positive) {
        assert.equal(verdict(0), false);
        assert.equal(verdict(-1), false);
        assert.equal(verdict(0.5), true);
      } else {
        assert.equal(verdict(rule.min), true);
        assert.equal(verdict(rule.max), true);
        assert.equal(verdict(rule.max + 1), false);
        if (rule.min > 0) assert.equal(verdict(rule.min - 1), false);
        assert.equal(verdict(rule.min + 0.5), false);
      }
    }
  });

  it('peerTimeoutMs must be longer than pingIntervalMs, in both', () => {
    assert.equal(assertAgree({ pingIntervalMs: 1000, peerTimeoutMs: 1000 }, 'equal'), false);
    assert.equal(assertAgree({ pingIntervalMs: 1000, peerTimeoutMs: 1001 }, 'longer'), true);
  });

  it('peerServer.port', () => {
    const { min, max } = KERNEL_RULES.config.peerServerPort;
    const server = (port) => ({ peerServer: { host: 'localhost', port } });
    assert.equal(assertAgree(server(min), 'lowest'), true);
    assert.equal(assertAgree(server(max), 'highest'), true);
    assert.equal(assertAgree(server(min - 1), 'below'), false);
    assert.equal(assertAgree(server(max + 1), 'above'), false);
  });
});

describe('keys: the JS API takes exactly the keys the kernel holds', () => {
  it('a key of the kernel’s byte limit is written and held; one byte more is refused before it reaches the kernel', async () => {
    const max = KERNEL_RULES.key.maxBytes;
    const atLimit = '€'.repeat(Math.floor(max / 3)) + 'k'.repeat(max % 3);
    assert.equal(new TextEncoder().encode(atLimit).length, max);
    assert.equal(requireKey(atLimit, 'set()'), atLimit);
    assert.throws(() => requireKey(`${atLimit}k`, 'set()'), { name: 'TypeError', message: /longer than 65536 bytes/ });

    const node = new NodeKernel({ enablePersistence: false, computeWorkers: 0 });
    await node.initialize();
    const state = node.getStateManager();
    state.write(atLimit, 1);
    assert.equal(node.getStatus().state.keyCount, 1, 'the kernel took the key');
    assert.equal(node.getStatus().state.rejectedWrites, 0);
    const copy = new NodeKernel({ enablePersistence: false, computeWorkers: 0 });
    await copy.initialize();
    copy.getStateManager().applyUpdate(state.encodeStateAsUpdate());
    assert.equal(copy.getStateManager().read(atLimit), 1, 'another replica takes it from this one');
    assert.throws(() => state.write(`${atLimit}k`, 1), { name: 'TypeError' });
    assert.equal(node.getStatus().state.keyCount, 1);
  });
});

describe('values: what the JS API takes as JSON, the kernel takes and hands on unchanged', () => {
  it('edge values round-trip through the kernel to another replica; what JSON cannot hold is refused before the kernel', async () => {
    const values = {
      big: Number.MAX_VALUE,
      tiny: Number.MIN_VALUE,
      negativeZero: -0,
      unsafe: 2 ** 60,
      text: 'tab\t quote" backslash\\ nul\u0000 emoji 😀 bom \ufeff',
      deep: JSON.parse('['.repeat(100) + ']'.repeat(100)),
      nothing: null,
      mixed: { a: [1, 'two', { three: true }], '': 'empty name', 'ü': 'ü' },
    };
    const a = new NodeKernel({ enablePersistence: false, computeWorkers: 0 });
    const b = new NodeKernel({ enablePersistence: false, computeWorkers: 0 });
    await a.initialize();
    await b.initialize();
    for (const [key, value] of Object.entries(values)) a.getStateManager().write(key, value);
    b.getStateManager().applyUpdate(a.getStateManager().encodeStateAsUpdate());
    for (const [key, value] of Object.entries(values)) {
      assert.deepEqual(b.getStateManager().read(key), JSON.parse(JSON.stringify(value)), key);
    }
    assert.equal(a.getStatus().state.rejectedWrites, 0);
    for (const bad of ['\ud800', NaN, Infinity, 1n, () => 1, Symbol('s'), undefined, new Map()]) {
      assert.throws(() => a.getStateManager().write('bad', bad), { name: 'TypeError' }, String(typeof bad));
    }
    assert.equal(a.getStateManager().has('bad'), false);
  });
});

describe('compute: task names, job options and task data tags', () => {
  let node;
  let kernel;
  before(async () => {
    node = new NodeKernel({ enablePersistence: false, computeWorkers: 0 });
    await node.initialize();
    kernel = freshKernel();
    assert.equal(kernel.initialize(JSON.stringify(kernelConfig({ ...DEFAULT_CONFIG, computeWorkers: 0, unitsQueuedPerWorker: 0 }, 'node-k', 2, '')), 0), '');
  });

  const jsTakesName = (name) => {
    try {
      node.getComputeManager().registerTask(name, { module: 'file:///task.js', export: 'run' });
      return true;
    } catch (error) {
      assert.equal(error.name, 'TypeError', error.message);
      assert.match(error.message, /name must be/);
      return false;
    }
  };

  it('task names: the JS API and the kernel take the same names', () => {
    const { maxLength, characters } = KERNEL_RULES.taskName;
    const names = ['x'.repeat(maxLength), 'x'.repeat(maxLength + 1), '', ...[...characters].map((c) => `t${c}`), 't/', 't ', 'tä', 't@'];
    for (const name of names) {
      const kernelTakes = kernel.registerTask(name, 0) === '';
      assert.equal(jsTakesName(name), kernelTakes, `task name '${name}': the kernel ${kernelTakes ? 'takes' : 'refuses'} it`);
    }
  });

  // The kernel's verdict on a job with these options and inputs.
  const kernelSubmits = (inputs, { redundancy = 1, timeoutMs = 1000, maxAttempts = 1 } = {}, task = 'countPrimes') => {
    const at = kernel.inputBuffer(taskInputBatchBound(inputs));
    const size = writeTaskInputBatch(core.HEAPU8, at, inputs) - at;
    const out = kernel.submitJob(task, size, redundancy, timeoutMs, maxAttempts, 0);
    if (typeof out === 'number') kernel.cancelJob(out, 0);
    return typeof out === 'number';
  };
  const jsSubmits = (options) => {
    try {
      node.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 10 }], options).cancel?.();
      return true;
    } catch (error) {
      assert.equal(error.name, 'TypeError', error.message);
      assert.match(error.message, /options\.\w+ must be/);
      return false;
    }
  };

  it('job options: redundancy and maxAttempts at the edges of the kernel’s ranges', () => {
    const input = [encodeTaskData({ from: 0, to: 10 })];
    for (const option of ['redundancy', 'maxAttempts']) {
      const { min, max } = KERNEL_RULES.job[option];
      for (const v of [min - 1, min, max, max + 1]) {
        assert.equal(jsSubmits({ [option]: v }), kernelSubmits(input, { [option]: v }), `${option} = ${v}`);
      }
    }
  });

  it('task data: every typed array the kernel has a tag for round-trips through the kernel’s check; an unknown tag is refused by both', () => {
    // An app task: the kernel checks its inputs as task data only (a built-in
    // task's, also field by field).
    assert.equal(kernel.registerTask('anyData', 0), '');
    for (const [name, { tag, elementBytes }] of Object.entries(KERNEL_RULES.taskData)) {
      const array = new globalThis[name](3);
      assert.equal(array.BYTES_PER_ELEMENT, elementBytes, name);
      const bytes = encodeTaskData(array);
      assert.equal(bytes[0], 0xd8, `${name} is tagged`);
      assert.equal(bytes[1], tag, `${name} carries tag ${tag}`);
      assert.equal(kernelSubmits([bytes], {}, 'anyData'), true, `the kernel takes a ${name}`);
      assert.deepEqual(decodeTaskData(bytes), array);
    }
    // Tag 80 is RFC 8746's big-endian uint16 array: neither side reads it.
    const unknown = Uint8Array.of(0xd8, 80, 0x42, 0x01, 0x02);
    assert.equal(kernelSubmits([unknown], {}, 'anyData'), false, 'the kernel refuses tag 80');
    assert.throws(() => decodeTaskData(unknown), { message: /unknown tag 80/ });
  });
});
