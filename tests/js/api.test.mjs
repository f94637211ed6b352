// The public JavaScript API, run in Node against the built package (dist/).
// Node has no WebRTC, so these cover what needs none: construction, config
// checks, lifecycle rules, the state API and its errors.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { after, describe, it } from 'node:test';

import { createNode, DEFAULT_CONFIG, NodeKernel, VERSION } from '../../dist/peercompute.js';

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));

// The cores the library sees: navigator.hardwareConcurrency, which Node has
// from version 21 (it is os.availableParallelism() there); without it (Node
// 20) the library assumes 2.
function reportedCores() {
  if (globalThis.navigator?.hardwareConcurrency === undefined) return 2;
  assert.equal(globalThis.navigator.hardwareConcurrency, availableParallelism());
  return globalThis.navigator.hardwareConcurrency;
}

describe('package exports', () => {
  it('exports VERSION equal to package.json version', () => {
    assert.equal(VERSION, pkg.version);
  });

  it('exports DEFAULT_CONFIG with the original option names, frozen', () => {
    for (const key of ['topology', 'enablePersistence', 'roomId', 'peerServer']) assert.ok(key in DEFAULT_CONFIG, key);
    assert.equal(DEFAULT_CONFIG.topology, 'mesh');
    assert.equal(DEFAULT_CONFIG.enablePersistence, true);
    assert.ok(Object.isFrozen(DEFAULT_CONFIG));
  });

  it('createNode returns an initialized node that has not started', async () => {
    const node = await createNode({ roomId: 'api-test' });
    assert.ok(node instanceof NodeKernel);
    const status = node.getStatus();
    assert.equal(status.isInitialized, true);
    assert.equal(status.isStarted, false);
    assert.equal(status.nodeId, node.nodeId);
    assert.equal(status.network.peerId, node.nodeId);
    assert.equal(status.state.hasPersistence, false);
    assert.equal(status.compute.enabled, true);
    // computeWorkers: null (the default) means one worker per core but one,
    // left to the page, and 1 to 8 of them.
    assert.equal(DEFAULT_CONFIG.computeWorkers, null);
    assert.equal(status.compute.workers, Math.max(1, Math.min(8, reportedCores() - 1)));
    assert.equal(status.compute.available, true);
    assert.deepEqual([status.compute.queued, status.compute.running, status.compute.completed], [0, 0, 0]);
    assert.equal(typeof node.getComputeManager().submitJob, 'function');
  });

  it('reports the computeWorkers it was given', async () => {
    for (const workers of [0, 1, 3, 12]) {
      const status = (await createNode({ roomId: 'api-test-workers', enablePersistence: false, computeWorkers: workers })).getStatus();
      assert.equal(status.compute.workers, workers);
      assert.equal(status.compute.available, workers > 0);
    }
  });
});

describe('config', () => {
  const rejects = (config, pattern) => assert.throws(() => new NodeKernel(config), pattern);

  it('names the bad option', () => {
    rejects({ topology: 'star' }, /config\.topology: 'star' is not supported/);
    rejects({ roomId: '' }, /config\.roomId/);
    rejects({ nodeId: 'has spaces' }, /config\.nodeId/);
    rejects({ pingIntervalMs: -1 }, /config\.pingIntervalMs/);
    rejects({ enablePersistence: 'yes' }, /config\.enablePersistence/);
    rejects({ iceServers: 'stun:x' }, /config\.iceServers/);
    rejects({ mystery: 1 }, /config\.mystery: unknown option/);
    rejects({ assetBaseUrl: 42 }, /config\.assetBaseUrl: must be null or a URL/);
    rejects({ assetBaseUrl: '' }, /config\.assetBaseUrl: must be null or a URL/);
    rejects({ assetBaseUrl: 'relative/' }, /config\.assetBaseUrl: 'relative\/' is not a URL \(give an absolute one where there is no page\)/);
    assert.equal(new NodeKernel({ assetBaseUrl: 'https://cdn.example.org/peercompute' }).config.assetBaseUrl, 'https://cdn.example.org/peercompute/');
  });

  it('maxUnitMs: 60000 by default, a positive number, passed to the kernel', async () => {
    assert.equal(DEFAULT_CONFIG.maxUnitMs, 60_000);
    assert.equal(new NodeKernel().config.maxUnitMs, 60_000);
    assert.equal(new NodeKernel({ maxUnitMs: 250.5 }).config.maxUnitMs, 250.5);
    for (const bad of [0, -1, NaN, Infinity, '300', null]) {
      rejects({ maxUnitMs: bad }, /^TypeError: config\.maxUnitMs: must be a positive number/);
    }
    const node = await createNode({ enablePersistence: false, maxUnitMs: 300 });
    assert.equal(node.getStatus().isInitialized, true, 'the kernel took it');
  });

  it('validates the signaling server, game and password options, naming the bad one', () => {
    rejects({ peerServer: 'localhost:9000' }, /config\.peerServer: must be null or an object/);
    rejects({ peerServer: {} }, /config\.peerServer\.host: must be a host name/);
    rejects({ peerServer: { host: 'localhost', port: 0 } }, /config\.peerServer\.port: must be an integer in 1\.\.65535/);
    rejects({ peerServer: { host: 'localhost', path: 'peerjs' } }, /config\.peerServer\.path: must be a path starting with '\/'/);
    rejects({ peerServer: { host: 'localhost', secure: 'no' } }, /config\.peerServer\.secure: must be a boolean/);
    rejects({ peerServer: { host: 'localhost', token: 'x' } }, /config\.peerServer\.token: unknown option/);
    rejects({ password: '' }, /config\.password: must be null or a non-empty string/);
    rejects({ password: 42 }, /config\.password/);
    rejects({ gameId: '' }, /config\.gameId: must be null or a non-empty string/);
    const node = new NodeKernel({ peerServer: { host: 'localhost' }, gameId: 'g', password: 'p' });
    assert.deepEqual({ ...node.config.peerServer }, { host: 'localhost', port: 9000, path: '/peerjs', secure: false, key: 'peerjs' });
  });

  it('accepts the defaults, a given node id and enablePersistence', () => {
    const node = new NodeKernel({ nodeId: 'my-node_1', enablePersistence: false });
    assert.equal(node.nodeId, 'my-node_1');
    assert.match(new NodeKernel().nodeId, /^pc-[0-9a-f]{16}$/);
  });
});

describe('lifecycle', () => {
  it('start before initialize throws, and the node stays stopped', async () => {
    const node = new NodeKernel();
    await assert.rejects(node.start(), /initialize\(\) first/);
    assert.equal(node.getStatus().isStarted, false);
  });

  it('getStateManager before initialize throws a clear error', () => {
    assert.throws(() => new NodeKernel().getStateManager(), /initialize\(\) first/);
  });

  it('initialize is idempotent; start, stop and start again work', async () => {
    const node = new NodeKernel();
    await Promise.all([node.initialize(), node.initialize()]);
    await node.start();
    assert.equal(node.getStatus().isStarted, true);
    await node.stop();
    assert.equal(node.getStatus().isStarted, false);
    await node.start();
    assert.equal(node.getStatus().isStarted, true);
    await node.stop();
  });
});

describe('StateManager', async () => {
  const node = await createNode();
  const state = node.getStateManager();

  it('writes, reads, has and deletes JSON values', async () => {
    state.write('n', 1.5);
    state.write('s', 'text');
    state.write('o', { a: [1, { b: null }], t: true });
    assert.equal(state.read('n'), 1.5);
    assert.equal(state.read('s'), 'text');
    assert.deepEqual(state.read('o'), { a: [1, { b: null }], t: true });
    assert.equal(state.has('s'), true);
    assert.equal(await state.delete('s'), true);
    assert.equal(state.has('s'), false);
    assert.equal(state.read('s'), undefined);
  });

  it('returns a copy, so mutating a read value does not change the state', () => {
    state.write('obj', { count: 1 });
    state.read('obj').count = 99;
    assert.deepEqual(state.read('obj'), { count: 1 });
  });

  it('throws an Error that names the problem for bad keys and values, and changes nothing', () => {
    const before = state.snapshot().data;
    const cycle = {};
    cycle.self = cycle;
    const cases = [
      [() => state.write('', 1), /key must not be empty/],
      [() => state.write(42, 1), /key must be a string, got number/],
      [() => state.write(null, 1), /key must be a string, got null/],
      [() => state.write('k', () => 1), /function/],
      [() => state.write('k', { nested: { fn() {} } }), /function at 'nested.fn'/],
      [() => state.write('k', cycle), /cycle at 'self'/],
      [() => state.write('k', 10n), /BigInt/],
      [() => state.write('k', NaN), /non-finite/],
      [() => state.write('k', { x: Infinity }), /non-finite/],
      [() => state.write('k', new Map()), /Map/],
      [() => state.write('k', Symbol('s')), /symbol/],
      [() => state.write('k', undefined), /undefined/],
      [() => state.batchWrite({ ok: 1, bad: () => 1 }), /entries\['bad'\]/],
      [() => state.batchWrite([1, 2]), /entries must be an object/],
    ];
    for (const [fn, pattern] of cases) assert.throws(fn, pattern);
    assert.deepEqual(state.snapshot().data, before);
  });

  it('reads a primitive back as its JSON would read: -0 as 0, strings and literals as written, through write and batchWrite', () => {
    const values = { negativeZero: -0, big: 2 ** 60, tiny: 5e-324, text: 'é 😀 "quoted" \\ \n', yes: true, no: false, nothing: null, date: new Date(0) };
    for (const [key, value] of Object.entries(values)) state.write(`w-${key}`, value);
    state.batchWrite(Object.fromEntries(Object.entries(values).map(([k, v]) => [`b-${k}`, v])));
    for (const [key, value] of Object.entries(values)) {
      const expected = JSON.parse(JSON.stringify(value));
      assert.ok(Object.is(state.read(`w-${key}`), expected), `write: ${key}`);
      assert.ok(Object.is(state.read(`b-${key}`), expected), `batchWrite: ${key}`);
    }
  });

  it('values deeper than the fast check walks are written when they are JSON, and their problems found when not', () => {
    const deep = (depth, leaf) => {
      let v = leaf;
      for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
      return v;
    };
    state.write('deep', deep(500, 'bottom'));
    assert.deepEqual(state.read('deep'), deep(500, 'bottom'));
    assert.throws(() => state.write('deep', deep(500, () => 1)), /function at '0\.d\.0\.d/);
    const ring = {};
    ring.next = deep(300, ring);
    assert.throws(() => state.write('ring', ring), /cycle at 'next\.0\.d/);
    assert.equal(state.has('ring'), false);
  });

  it('rejects a lone surrogate, which is not valid Unicode text, with a clear error', () => {
    assert.throws(() => state.write('k', '\ud800'), /lone surrogate/);
    assert.throws(() => state.write('k', { '\udc00': 1 }), /property name with a lone surrogate/);
    assert.throws(() => state.write('\ud800', 1), /key contains a lone surrogate/);
    assert.throws(() => state.write('x'.repeat(70_000), 1), /longer than 65536 bytes/);
  });

  it('applies batchWrite atomically: subscribers see the whole batch', () => {
    const seen = [];
    const unsubscribe = state.subscribe('*', (value, key) => {
      if (key.startsWith('batch-')) seen.push([key, value, state.read('batch-a'), state.read('batch-b')]);
    });
    state.batchWrite({ 'batch-a': 1, 'batch-b': 2 });
    unsubscribe();
    assert.deepEqual(seen, [
      ['batch-a', 1, 1, 2],
      ['batch-b', 2, 1, 2],
    ]);
  });

  it('subscribe to one key, with unsubscribe', () => {
    const calls = [];
    const unsubscribe = state.subscribe('watched', (value, key) => calls.push([key, value]));
    state.write('watched', 1);
    state.write('other', 1);
    state.delete('watched');
    unsubscribe();
    state.write('watched', 2);
    assert.deepEqual(calls, [
      ['watched', 1],
      ['watched', undefined],
    ]);
  });

  it('write resolves even when a subscriber flushes it at once (getStatus reads the kernel)', async () => {
    const stop = state.subscribe('flushed', () => node.getStatus());
    const outcome = await Promise.race([
      state.write('flushed', 1),
      new Promise((resolve) => setTimeout(() => resolve('never settled'), 1000)),
    ]);
    stop();
    assert.equal(outcome, true);
    assert.equal(node.getStatus().state.keyCount, state.keys().length);
  });

  it('a subscriber that writes does not disturb the write that triggered it', () => {
    const unsubscribe = state.subscribe('trigger', (value) => state.write('derived', value * 2));
    state.write('trigger', 21);
    unsubscribe();
    assert.equal(state.read('trigger'), 21);
    assert.equal(state.read('derived'), 42);
  });

  it('keys, values, entries, snapshot, getStats and clear', async () => {
    await state.clear();
    assert.deepEqual(state.keys(), []);
    state.batchWrite({ x: 1, y: [2] });
    assert.deepEqual(state.keys().sort(), ['x', 'y']);
    assert.deepEqual(state.values().length, 2);
    assert.deepEqual(Object.fromEntries(state.entries()), { x: 1, y: [2] });
    const snap = state.snapshot();
    assert.deepEqual(snap.data, { x: 1, y: [2] });
    assert.equal(snap.keyCount, 2);
    assert.equal(typeof snap.timestamp, 'number');
    assert.equal(typeof snap.version, 'number');
    assert.equal(state.getStats().keyCount, 2);
    const stop = state.subscribe('x', () => {});
    const stopAll = state.subscribe('*', () => {});
    assert.deepEqual(
      [state.getStats().subscriberCount, state.getStats().globalSubscriberCount, state.getStats().hasP2PSync],
      [1, 1, false],
    );
    stop();
    stopAll();
    assert.equal(await state.clear(), 2);
    assert.equal(state.getStats().keyCount, 0);
    assert.equal(node.getStatus().state.keyCount, 0);
  });
});

describe('namespaces', async () => {
  const node = await createNode();
  const state = node.getStateManager();

  it('keeps namespaced keys apart from plain keys and from each other', async () => {
    await state.write('hp', 1);
    await state.writeScoped('player:ada', 'hp', 10);
    await state.writeScoped('player:bob', 'hp', 20);
    assert.equal(state.read('hp'), 1);
    assert.equal(state.readScoped('player:ada', 'hp'), 10);
    assert.equal(state.hasScoped('player:bob', 'hp'), true);
    assert.equal(state.hasScoped('player:bob', 'mp'), false);
    assert.deepEqual(state.keys(), ['hp'], 'plain keys() does not list namespaced keys');
    assert.deepEqual(state.snapshot().data, { hp: 1 });
    assert.deepEqual(state.listNamespaceKeys('player:ada'), ['hp']);
  });

  it('observes one namespace, deletes in it, and clears it as one transaction', async () => {
    const seen = [];
    const stop = state.observeNamespace('room', (value, key) => seen.push([key, value, state.listNamespaceKeys('room').length]));
    const plain = [];
    const stopPlain = state.subscribe('*', (value, key) => plain.push(key));
    await state.writeScoped('room', 'a', 1);
    await state.writeScoped('room', 'b', { x: 2 });
    assert.equal(await state.deleteScoped('room', 'a'), true);
    await state.writeScoped('room', 'c', 3);
    assert.equal(await state.clearNamespace('room'), 2);
    stop();
    stopPlain();
    assert.deepEqual(seen, [
      ['a', 1, 1],
      ['b', { x: 2 }, 2],
      ['a', undefined, 1],
      ['c', 3, 2],
      ['b', undefined, 0], // the whole clear is applied before observers run
      ['c', undefined, 0],
    ]);
    assert.deepEqual(plain, [], "'*' subscribers see plain keys only");
    assert.deepEqual(state.listNamespaceKeys('room'), []);
  });

  it('names the bad argument', () => {
    assert.throws(() => state.writeScoped('', 'k', 1), /writeScoped\(namespace, key, value\): namespace must be a non-empty string/);
    assert.throws(() => state.writeScoped('n\u0000s', 'k', 1), /must not contain U\+0000/);
    assert.throws(() => state.writeScoped('ns', '', 1), /key must not be empty/);
    assert.throws(() => state.writeScoped('ns', 'k', () => 1), /value contains a function/);
    assert.throws(() => state.write('\u0000ns\u0000k', 1), /reserved for namespaces/);
    assert.throws(() => state.observeNamespace('ns', 5), /callback must be a function/);
  });
});

describe('presence', async () => {
  const node = await createNode();
  const state = node.getStateManager();

  it('keeps this node\'s own presence, and null clears it', () => {
    const changes = [];
    const stop = state.onPresence((all, change) => changes.push([all, change]));
    state.setPresence({ name: 'ada' });
    assert.deepEqual(state.getPresence(), { [node.nodeId]: { name: 'ada' } });
    state.setPresence(null);
    assert.deepEqual(state.getPresence(), {});
    stop();
    assert.deepEqual(changes, [
      [{ [node.nodeId]: { name: 'ada' } }, { peerId: node.nodeId, state: { name: 'ada' } }],
      [{}, { peerId: node.nodeId, state: null }],
    ]);
  });

  it('refuses what JSON cannot hold, naming the argument', () => {
    assert.throws(() => state.setPresence({ f() {} }), /setPresence\(presence\): presence contains a function at 'f'/);
    assert.throws(() => state.onPresence('nope'), /onPresence\(callback\): callback must be a function/);
  });

  it('parses each presence once when it changes, not every presence on every change', () => {
    // As the kernel's output dispatch does for peers' presences.
    for (let i = 0; i < 200; i++) state.applyPresence(`pc-peer-${i}`, JSON.stringify({ cursor: [i, i], name: `peer ${i}`, tags: ['a', 'b'] }));
    const seen = [];
    const stopA = state.onPresence((all, change) => seen.push(['a', Object.keys(all).length, change.peerId]));
    const stopB = state.onPresence((all) => seen.push(['b', all['pc-peer-7'].cursor[0]]));
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = function countedParse(...args) {
      parses++;
      return parse.apply(this, args);
    };
    try {
      state.applyPresence('pc-peer-7', JSON.stringify({ cursor: [70, 71], name: 'peer 7', tags: [] }));
      assert.equal(state.getPresence()['pc-peer-7'].cursor[0], 70);
    } finally {
      JSON.parse = parse;
      stopA();
      stopB();
    }
    assert.equal(parses, 1, 'one presence changed: one parse');
    assert.deepEqual(seen, [
      ['a', 200, 'pc-peer-7'],
      ['b', 70],
    ]);
    for (let i = 0; i < 200; i++) state.applyPresence(`pc-peer-${i}`, null);
    assert.deepEqual(state.getPresence(), {});
  });

  it('hands out presences frozen, so no listener can change what others see', () => {
    state.applyPresence('pc-peer-x', JSON.stringify({ cursor: [1, 2], deep: { list: [{ a: 1 }] } }));
    let fromListener = null;
    const stop = state.onPresence((all, change) => (fromListener = [all, change]));
    state.setPresence({ name: 'ada', pos: { x: 1 } });
    stop();
    const all = state.getPresence();
    for (const presence of [all['pc-peer-x'], all['pc-peer-x'].deep.list[0], all[node.nodeId], all[node.nodeId].pos, fromListener[1].state]) {
      assert.ok(Object.isFrozen(presence), JSON.stringify(presence));
    }
    assert.throws(() => {
      all['pc-peer-x'].deep.list[0].a = 2;
    }, TypeError);
    assert.deepEqual(state.getPresence()['pc-peer-x'], { cursor: [1, 2], deep: { list: [{ a: 1 }] } });
    // The object around them is the caller's: a new one each call.
    delete all['pc-peer-x'];
    assert.ok('pc-peer-x' in state.getPresence());
    assert.ok('pc-peer-x' in fromListener[0]);
    state.applyPresence('pc-peer-x', null);
    state.setPresence(null);
  });

  it('refuses a presence of more than 64 KiB of JSON with an Error naming the limit, and keeps the one it had', () => {
    state.setPresence({ name: 'ada' });
    const calls = [];
    const stop = state.onPresence((all, change) => calls.push(change));
    assert.throws(() => state.setPresence('x'.repeat(70_000)), (error) => error instanceof Error && /64 KiB/.test(error.message) && /setPresence/.test(error.message));
    // Multi-byte text: 30,000 characters, 90,000 bytes of UTF-8.
    assert.throws(() => state.setPresence('€'.repeat(30_000)), /90002 bytes of JSON, over the limit of 64 KiB/);
    stop();
    assert.deepEqual(calls, []);
    assert.deepEqual(state.getPresence(), { [node.nodeId]: { name: 'ada' } });
    state.setPresence('y'.repeat(60_000)); // within the limit
    assert.equal(state.getPresence()[node.nodeId].length, 60_000);
    state.setPresence(null);
  });
});

describe('transactions within the protocol limits', async () => {
  const node = await createNode({ enablePersistence: false });
  const state = node.getStateManager();
  const refused = [];
  const consoleError = console.error;
  console.error = (...args) => {
    refused.push(args.join(' '));
    consoleError(...args);
  };
  after(() => {
    console.error = consoleError;
  });

  it('batchWrite of more than 1,048,576 entries throws at once, naming the limit, and writes nothing', () => {
    const entries = {};
    for (let i = 0; i <= 1_048_576; i++) entries[i] = 0; // integer keys: quick to build
    const before = state.getStats().version;
    assert.throws(
      () => state.batchWrite(entries),
      (error) => error instanceof RangeError && /1,048,576 keys/.test(error.message) && /1,048,577 keys/.test(error.message) && /split it/.test(error.message),
    );
    assert.equal(state.getStats().version, before);
    assert.equal(state.has('0'), false);
  });

  it('a transaction over 16 MiB (keys, values, 14 bytes a key) throws, naming the limit: 100,000 entries of 200 bytes do', () => {
    const entries = {};
    const value = 'v'.repeat(200);
    for (let i = 0; i < 100_000; i++) entries[`k${i}`] = value;
    assert.throws(() => state.batchWrite(entries), /batchWrite\(entries\): [\d,]+ bytes, over the limit of one transaction \(1,048,576 keys and 16 MiB.*split it/);
    assert.throws(() => state.write('big', 'x'.repeat(17 * 1024 * 1024)), /write\(key, value\): [\d,]+ bytes, over the limit of one transaction/);
    assert.throws(() => state.batchWrite({ big: '€'.repeat(6 * 1024 * 1024) }), RangeError, '18 MiB of UTF-8 in 6 Mi characters');
    assert.equal(state.has('k0') || state.has('big'), false);
  });

  it('two batchWrites that together exceed one transaction both land, each whole, in one tick', async () => {
    // Keys of 280 bytes: 30,000 of them are about 9 MB by the kernel's bound.
    const pad = 'p'.repeat(272);
    const make = (prefix) => {
      const entries = {};
      for (let i = 0; i < 30_000; i++) entries[`${prefix}${pad}${String(i).padStart(6, '0')}`] = i;
      return entries;
    };
    const [a, b] = [make('a'), make('b')];
    const transactions = state.getStats().localTransactions;
    const [na, nb] = await Promise.all([state.batchWrite(a), state.batchWrite(b)]);
    assert.deepEqual([na, nb], [30_000, 30_000]);
    assert.deepEqual(refused, [], 'the kernel refused nothing');
    assert.equal(node.getStatus().state.keyCount, 60_000, 'the kernel has every key');
    assert.equal(state.getStats().localTransactions, transactions + 2);
    assert.equal(state.read(`a${pad}029999`), 29_999);
    assert.equal(state.read(`b${pad}000000`), 0);
  });

  it('clear() of more keys than one transaction holds deletes them all, in several', async () => {
    assert.equal(state.keys().length, 60_000); // about 17.6 MB of deletes by the kernel's bound
    const transactions = state.getStats().localTransactions;
    assert.equal(await state.clear(), 60_000);
    assert.deepEqual(refused, []);
    assert.equal(node.getStatus().state.keyCount, 0);
    assert.equal(state.keys().length, 0);
    assert.ok(state.getStats().localTransactions >= transactions + 2);
  });

  it('many small writes in one tick all land', () => {
    const transactions = state.getStats().localTransactions;
    for (let i = 0; i < 1000; i++) state.write(`w${i}`, { i });
    state.flush();
    assert.deepEqual(refused, []);
    assert.equal(node.getStatus().state.keyCount, 1000);
    assert.equal(state.getStats().localTransactions, transactions + 1000);
  });
});

describe('NetworkManager', async () => {
  const node = await createNode();
  const network = node.getNetworkManager();

  it('has no peers before start and refuses to send with a clear error', () => {
    assert.deepEqual(network.getConnectedPeers(), []);
    assert.throws(() => network.sendToPeer('pc-nobody', { a: 1 }), /must be started/);
    assert.throws(() => network.sendToPeer('', 1), /peerId must be a non-empty string/);
    assert.throws(() => network.broadcast(() => 1), /broadcast\(message, options\): message contains a function/);
    assert.throws(() => network.broadcast(1, { reliable: 'no' }), /options\.reliable must be a boolean/);
    assert.throws(() => network.sendToPeer('pc-x', 1, null), /options must be an object/);
  });

  it('refuses to send to a peer that is not connected', async () => {
    await node.start();
    assert.throws(() => network.sendToPeer('pc-nobody', { a: 1 }), /pc-nobody is not connected/);
    assert.equal(network.broadcast({ hello: 1 }), 0);
    await node.stop();
  });

  it('reports network statistics', () => {
    const stats = network.getNetworkStats();
    assert.equal(stats.peerId, node.nodeId);
    for (const key of ['peerCount', 'bytesIn', 'bytesOut', 'rejectedFrames', 'rejectedSignals']) {
      assert.equal(typeof stats[key], 'number', key);
    }
  });
});
