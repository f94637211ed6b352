// The public JavaScript API, run in Node against the built package (dist/).
// Node has no WebRTC, so these cover what needs none: construction, config
// checks, lifecycle rules, the state API and its errors.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { createNode, DEFAULT_CONFIG, NodeKernel, VERSION } from '../../dist/peercompute.js';

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));

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
    assert.equal(status.compute.workers, DEFAULT_CONFIG.computeWorkers ?? status.compute.workers);
    assert.ok(status.compute.workers >= 1);
    assert.deepEqual([status.compute.queued, status.compute.running, status.compute.completed], [0, 0, 0]);
    assert.equal(typeof node.getComputeManager().submitJob, 'function');
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
