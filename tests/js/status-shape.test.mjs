// getStatus() has one shape, the kernel's (wasm/kernel/node_status.cpp):
// before initialize(), after it, and while started, and the NodeStatus the
// d.ts declares is that shape, property for property. The d.ts is read with
// the TypeScript compiler's own API, so a field added to the kernel's status
// and not to the d.ts (or the other way round) fails here.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';

import { NodeKernel } from '../../dist/peercompute.js';

const DTS = fileURLToPath(new URL('../../dist/peercompute.d.ts', import.meta.url));

// A value's shape: its kind, and for an object each property's shape.
// Records keyed by peer id are maps, not shapes: their entries are not fields.
const MAPS = new Set(['network.connectionStates']);
function shapeOf(value, path = '') {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'object') return typeof value;
  if (MAPS.has(path)) return 'map';
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shapeOf(value[k], path ? `${path}.${k}` : k)]));
}

// The property tree the d.ts declares for an interface: each property's
// kinds (null among them when it may be null), objects expanded.
function declaredShape(interfaceName) {
  const program = ts.createProgram([DTS], { strict: true, noEmit: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(DTS);
  let declared;
  ts.forEachChild(file, (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === interfaceName) declared = checker.getTypeAtLocation(node);
  });
  assert.ok(declared, `${interfaceName} is declared`);

  const walk = (type, path) => {
    const parts = type.isUnion() ? type.types : [type];
    const kinds = new Set();
    let object = null;
    for (const part of parts) {
      const flags = part.getFlags();
      if (flags & ts.TypeFlags.Null) kinds.add('null');
      else if (flags & (ts.TypeFlags.StringLike)) kinds.add('string');
      else if (flags & (ts.TypeFlags.NumberLike)) kinds.add('number');
      else if (flags & (ts.TypeFlags.BooleanLike)) kinds.add('boolean');
      else if (checker.isArrayType(part)) kinds.add('array');
      else if (MAPS.has(path) || checker.getIndexInfosOfType(part).length > 0) kinds.add('map');
      else {
        object = {};
        for (const property of checker.getPropertiesOfType(part)) {
          const optional = (property.getFlags() & ts.SymbolFlags.Optional) !== 0;
          const child = path ? `${path}.${property.name}` : property.name;
          object[property.name] = { optional, ...walk(checker.getTypeOfSymbol(property), child) };
        }
        kinds.add('object');
      }
    }
    return { kinds, object };
  };
  return walk(declared, '').object;
}

// Every field of the actual status is declared, with its kind, and every
// declared field is in the actual status and not optional.
function assertMatches(actual, declared, path = 'NodeStatus') {
  for (const [key, shape] of Object.entries(actual)) {
    const field = declared[key];
    assert.ok(field, `${path}.${key} is in the status but not in the d.ts`);
    const kind = typeof shape === 'object' ? 'object' : shape;
    assert.ok(field.kinds.has(kind), `${path}.${key} is ${kind} but the d.ts says ${[...field.kinds].join(' | ')}`);
    if (kind === 'object') assertMatches(shape, field.object, `${path}.${key}`);
  }
  for (const [key, field] of Object.entries(declared)) {
    assert.ok(key in actual, `${path}.${key} is in the d.ts but not in the status`);
    assert.equal(field.optional, false, `${path}.${key} is always present, but the d.ts marks it optional`);
  }
}

describe('the status has one shape', () => {
  let node;
  const seen = {};
  before(async () => {
    node = new NodeKernel({ enablePersistence: false, gameId: 'shapes', roomId: 'status-shape', computeWorkers: 1 });
    seen.beforeInit = node.getStatus();
    await node.initialize();
    seen.initialized = node.getStatus();
    await node.start();
    seen.started = node.getStatus();
  });
  after(() => node.stop());

  // Same fields, same kinds; null stands in for any kind (startedAt is null
  // until start()).
  const comparable = (a, b) =>
    typeof a === 'object' && typeof b === 'object'
      ? Object.fromEntries(Object.keys({ ...a, ...b }).sort().map((k) => [k, k in a && k in b ? comparable(a[k], b[k]) : `only in ${k in a ? 'one' : 'the other'}`]))
      : a === 'null' || b === 'null' || a === b ? 'same' : `${a} vs ${b}`;
  const allSame = (shape) => (typeof shape === 'object' ? Object.fromEntries(Object.keys(shape).map((k) => [k, allSame(shape[k])])) : 'same');

  it('before initialize(), after it and while started, the same fields of the same kinds', () => {
    const started = shapeOf(seen.started);
    assert.deepEqual(comparable(shapeOf(seen.beforeInit), started), allSame(started));
    assert.deepEqual(comparable(shapeOf(seen.initialized), started), allSame(started));
  });

  it('reports the node’s settings before initialize()', () => {
    const s = seen.beforeInit;
    assert.equal(s.nodeId, node.nodeId);
    assert.equal(s.network.peerId, node.nodeId);
    assert.equal(s.roomId, 'status-shape');
    assert.equal(s.gameId, 'shapes');
    assert.equal(s.isInitialized, false);
    assert.equal(s.compute.workers, 1);
    assert.equal(s.state.hasPersistence, false);
    assert.equal(seen.started.roomId, 'status-shape', 'the app’s room, not the kernel’s joined one');
    assert.equal(seen.started.state.hasP2PSync, true);
    assert.deepEqual(seen.started.network.transports, ['broadcast-channel']);
  });

  it('is the NodeStatus of the d.ts, field for field', () => {
    assertMatches(shapeOf(seen.started), declaredShape('NodeStatus'));
  });

  it('the check fails for a field the d.ts lacks', () => {
    const status = shapeOf(seen.started);
    status.network.undeclared = 'number';
    assert.throws(() => assertMatches(status, declaredShape('NodeStatus')), /network\.undeclared is in the status but not in the d\.ts/);
  });
});

describe('the signaling server’s status', () => {
  it('is the SignalingServerStatus of the d.ts', async () => {
    const node = new NodeKernel({ enablePersistence: false, peerServer: { host: 'localhost', port: 9 } });
    await node.initialize();
    const server = node.getStatus().network.signalingServer;
    assert.equal(typeof server, 'object');
    assert.notEqual(server, null);
    assertMatches(shapeOf(server), declaredShape('SignalingServerStatus'), 'SignalingServerStatus');
  });
});
