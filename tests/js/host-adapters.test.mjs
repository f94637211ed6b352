// The registry of host adapters (js-glue/host-adapters.js, KernelDriver.serve):
// every output type of wasm/host/host_interface.json has exactly one adapter,
// and each output of a real stream (encoded natively by the generated C++
// encoder) reaches the part of the glue that serves it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';

import { serveKernelOutputs } from '../../dist/host-adapters.js';
import { OUTPUT_TYPES } from '../../dist/host/output-decoder.js';
import { KernelDriver } from '../../dist/kernel-driver.js';
import { loadTable } from '../../scripts/host-interface/table.mjs';
import { buildHarness, sampleOutputs } from './host-interface/native-harness.mjs';

const table = loadTable();

// Which part serves each output type, and by which of its methods.
const SERVED_BY = {
  'route-open': 'routes.open',
  'route-send': 'routes.send',
  'route-close': 'routes.close',
  'route-list': 'routes.list',
  open: 'pool.open',
  rtc: 'pool.deliver',
  close: 'pool.close',
  send: 'pool.send',
  'peer-connected': 'emitter.emit',
  'peer-disconnected': 'emitter.emit',
  state: 'state.applyKernelChanges',
  message: 'network.deliverMessage',
  persist: 'storage.append',
  compact: 'storage.compact',
  presence: 'state.applyPresence',
  seal: 'roomCrypto.seal',
  unseal: 'roomCrypto.unseal',
  authenticate: 'roomCrypto.proofs',
  'run-task': 'compute.handleOutput',
  'cancel-task': 'compute.handleOutput',
  'job-progress': 'compute.handleOutput',
  'job-finished': 'compute.handleOutput',
  entropy: 'kernel.addEntropy',
};

const EMPTY_STREAM = new Uint8Array(new Float64Array([-1]).buffer);

// An object whose every method records its call as 'part.method'.
function recorder(calls, part, answers = {}) {
  return new Proxy(
    {},
    {
      get: (_, method) => (...args) => {
        calls.push(`${part}.${String(method)}`);
        return answers[method]?.(...args);
      },
    },
  );
}

// A driver over a stand-in kernel whose pollOutputs() returns `streams` one by one.
function driverWithParts(streams = []) {
  const calls = [];
  const kernel = recorder(calls, 'kernel', { pollOutputs: () => streams.shift() ?? EMPTY_STREAM, inputBuffer: () => 0 });
  const driver = new KernelDriver({ HEAPU8: new Uint8Array(1 << 16) }, kernel);
  const parts = {
    pool: recorder(calls, 'pool'),
    routes: recorder(calls, 'routes'),
    emitter: recorder(calls, 'emitter'),
    state: recorder(calls, 'state'),
    network: recorder(calls, 'network'),
    compute: recorder(calls, 'compute'),
    roomCrypto: recorder(calls, 'roomCrypto', {
      seal: async () => 'sealed',
      unseal: async () => 'opened',
      proofs: async () => ({ proof: new Uint8Array(32), expected: new Uint8Array(32) }),
    }),
    storage: recorder(calls, 'storage', { compact: async () => {} }),
    nodeId: 'me',
    restore: () => {},
  };
  return { driver, parts, calls };
}

describe('host adapters', () => {
  it('the test knows every output type', () => {
    assert.deepEqual(Object.keys(SERVED_BY).sort(), [...OUTPUT_TYPES].sort());
    assert.deepEqual(OUTPUT_TYPES, table.outputs.map((o) => o.type));
  });

  it('serveKernelOutputs gives every output type of the table exactly one adapter', () => {
    const { driver, parts } = driverWithParts();
    serveKernelOutputs(driver, parts); // throws on a type missing, unknown or served twice
  });

  it('a type the table lacks, or one served twice, is refused', () => {
    const { driver } = driverWithParts();
    assert.throws(() => driver.serve({ 'no-such-output': () => {} }), /no output of type 'no-such-output'/);
    driver.serve({ open: () => {} });
    assert.throws(() => driver.serve({ open: () => {} }), /'open' is already served/);
  });

  it('a type without an adapter is named', () => {
    const { driver } = driverWithParts();
    driver.serve(Object.fromEntries(OUTPUT_TYPES.filter((t) => t !== 'compact' && t !== 'rtc').map((t) => [t, () => {}])));
    assert.throws(() => driver.requireEveryOutputServed(), /'rtc', 'compact'/);
  });

  it('each output of a stream reaches the part that serves it, in order; crypto answers come back as inputs', async () => {
    const samples = sampleOutputs(table);
    // The network adapter parses a JSON message.
    for (const s of samples) if (s.output.type === 'message') s.values.payload = '{"ok":true}';
    const harness = buildHarness(table, samples);
    const [stream] = harness.run().trim().split('\n').map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));
    harness.dispose();
    const { driver, parts, calls } = driverWithParts([stream]);
    serveKernelOutputs(driver, parts);
    const errors = [];
    const consoleError = console.error;
    console.error = (...args) => errors.push(args);
    try {
      driver.input(() => {});
    } finally {
      console.error = consoleError;
    }
    assert.deepEqual(errors, []);
    const served = calls.filter((c) => !/^kernel\.(pollOutputs|inputBuffer)$/.test(c));
    assert.deepEqual(served, samples.map((s) => SERVED_BY[s.output.type]));
    calls.length = 0;
    await setImmediate();
    const answers = calls.filter((c) => /^kernel\.handle(?!Timeout)/.test(c)).sort();
    assert.deepEqual(answers, ['kernel.handleAuthProofs', 'kernel.handleAuthProofs', 'kernel.handleSealed', 'kernel.handleSealed', 'kernel.handleUnsealed', 'kernel.handleUnsealed']);
  });
});
