// Many Node.js nodes in one process, over real WebRTC on loopback
// (node-datachannel), signaling through BroadcastChannel: ten nodes form a
// mesh, then every node writes its own keys and one shared key at once, and
// all of them end with the same state. Then they all stop, and with them
// node-datachannel, so that the process can exit.
//
// All ten start in one turn. A node holds at most 8 connections being set
// up (DiscoveryEngine::kMaxPendingConnections) and ignores an offer past
// that; its dialer tries again after connectTimeoutMs. So a few of the 45
// connections come on a second try: by default 15 s later, here 3 s.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createNode } from '../../dist/peercompute.js';
import { eventually } from './transport-contract/contract.mjs';

const COUNT = 10;
const KEYS_EACH = 5;
const room = `node-mesh-${process.pid}`;

describe(`${COUNT} Node.js nodes over real WebRTC`, () => {
  const nodes = [];
  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it('connect as a full mesh', async () => {
    for (let i = 0; i < COUNT; i++) nodes.push(await createNode({ roomId: room, nodeId: `mesh-${String(i).padStart(2, '0')}`, enablePersistence: false, connectTimeoutMs: 3000 }));
    await Promise.all(nodes.map((node) => node.start()));
    await eventually(
      () => {
        for (const node of nodes) assert.equal(node.getNetworkManager().getConnectedPeers().length, COUNT - 1, `${node.nodeId}'s peers`);
      },
      { timeout: 20_000, interval: 100 },
    );
  });

  it('converge on concurrent writes: own keys and one shared key', async () => {
    // All in one turn: no node hears another's write before making its own.
    for (const [i, node] of nodes.entries()) {
      const state = node.getStateManager();
      for (let k = 0; k < KEYS_EACH; k++) state.write(`own/${node.nodeId}/${k}`, { by: i, k });
      state.write('shared', { by: node.nodeId });
      state.write('counter', i);
    }
    const snapshot = (node) => JSON.stringify(node.getStateManager().entries().sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    await eventually(
      () => {
        const first = snapshot(nodes[0]);
        for (const node of nodes) {
          assert.equal(node.getStateManager().read(`own/${nodes.at(-1).nodeId}/${KEYS_EACH - 1}`)?.k, KEYS_EACH - 1);
          assert.equal(snapshot(node), first, `${node.nodeId} has ${nodes[0].nodeId}'s state`);
        }
      },
      { timeout: 15_000, interval: 100 },
    );
    const state = nodes[0].getStateManager();
    for (const [i, node] of nodes.entries()) {
      for (let k = 0; k < KEYS_EACH; k++) assert.deepEqual(state.read(`own/${node.nodeId}/${k}`), { by: i, k });
    }
    // One writer's value won, the same everywhere.
    assert.ok(nodes.some((node) => state.read('shared').by === node.nodeId));
  });
});

