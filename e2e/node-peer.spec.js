// A Chromium tab and a Node.js peer (the package's node in a Node process,
// over real WebRTC through node-datachannel) meet through the unmodified
// PeerJS server and share everything, both ways: state, JSON, binary and
// unreliable messages, presence, and compute jobs.
import { expect, test } from '@playwright/test';
import { peerConfig } from '../scripts/signaling-server.mjs';
import { openTab, startConfiguredNode, uniqueRoom } from './support/nodes.js';
import { startPeer as startNodePeer } from '../tests/js/support/cli-processes.mjs';
import { SIGNAL_PORT } from './support/server.js';

let peer;

test.afterEach(async () => {
  if (peer) expect((await peer.close()).code, 'the Node peer exits by itself').toBe(0);
  peer = null;
});

// The Node peer and a tab in `room`, connected to each other.
async function nodeAndTab(context, room, nodeOptions = {}, tabOptions = {}) {
  peer = startNodePeer();
  const nodeId = await peer.call('start', {
    config: { roomId: room, enablePersistence: false, peerServer: peerConfig('127.0.0.1', SIGNAL_PORT), ...nodeOptions },
  });
  const page = await openTab(context, room);
  const tabId = await startConfiguredNode(page, { roomId: room, enablePersistence: false, peerServer: 'from-page', computeWorkers: 1, ...tabOptions });
  await page.evaluate(() => {
    window.__heard = [];
    window.node
      .getNetworkManager()
      .addMessageHandler((peerId, message) => window.__heard.push({ peerId, message: message instanceof Uint8Array ? { bytes: [...message] } : message }));
  });
  await expect.poll(() => page.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId)), { timeout: 20_000 }).toEqual([nodeId]);
  await expect.poll(() => peer.call('peers')).toEqual([tabId]);
  return { page, nodeId, tabId };
}

test('a tab and a Node.js peer share state, JSON, binary and unreliable messages, and presence, both ways', async ({ context }, testInfo) => {
  const { page, nodeId, tabId } = await nodeAndTab(context, uniqueRoom(testInfo));

  await peer.call('write', { key: 'from/node', value: { by: 'node', list: [1, 2, 3] } });
  await page.evaluate(() => window.node.getStateManager().write('from/tab', { by: 'tab', nested: { ok: true } }));
  await expect.poll(() => page.evaluate(() => window.node.getStateManager().read('from/node'))).toEqual({ by: 'node', list: [1, 2, 3] });
  await expect.poll(() => peer.call('read', { key: 'from/tab' })).toEqual({ by: 'tab', nested: { ok: true } });

  await peer.call('send', { peer: tabId, message: { hello: 'tab' } });
  await peer.call('send', { peer: tabId, message: [0, 1, 2, 254, 255], binary: true });
  await peer.call('send', { peer: tabId, message: { fast: 'tab' }, reliable: false });
  await page.evaluate((id) => {
    const network = window.node.getNetworkManager();
    network.sendToPeer(id, { hello: 'node' });
    network.sendToPeer(id, new Uint8Array([9, 8, 7, 0, 200]));
    network.sendToPeer(id, { fast: 'node' }, { reliable: false });
  }, nodeId);
  const tabHeard = [
    { peerId: nodeId, message: { hello: 'tab' } },
    { peerId: nodeId, message: { bytes: [0, 1, 2, 254, 255] } },
    { peerId: nodeId, message: { fast: 'tab' } },
  ];
  const nodeHeard = [
    { peerId: tabId, message: { hello: 'node' } },
    { peerId: tabId, message: { bytes: [9, 8, 7, 0, 200] } },
    { peerId: tabId, message: { fast: 'node' } },
  ];
  // Unreliable messages are unordered: compare as sets.
  const sorted = (list) => list.map((m) => JSON.stringify(m)).sort();
  await expect.poll(async () => sorted(await page.evaluate(() => window.__heard))).toEqual(sorted(tabHeard));
  await expect.poll(async () => sorted(await peer.call('heard'))).toEqual(sorted(nodeHeard));

  await peer.call('setPresence', { value: { cursor: [3, 4], name: 'node' } });
  await page.evaluate(() => window.node.getStateManager().setPresence({ cursor: [1, 2], name: 'tab' }));
  await expect.poll(() => page.evaluate((id) => window.node.getStateManager().getPresence()[id] ?? null, nodeId)).toEqual({ cursor: [3, 4], name: 'node' });
  await expect.poll(async () => (await peer.call('presence'))[tabId] ?? null).toEqual({ cursor: [1, 2], name: 'tab' });

  // The Node peer leaves: the tab sees it go.
  expect((await peer.close()).code).toBe(0);
  peer = null;
  await expect.poll(() => page.evaluate(() => window.node.getNetworkManager().getConnectedPeers().length)).toBe(0);
});

// Tiles slow enough (tens of ms each) that shipping them beats running them here.
const TILES = Array.from({ length: 12 }, (_, i) => ({ x0: -2 + (i % 4) * 0.75, y0: -1.2 + Math.floor(i / 4) * 0.8, dx: 0.01, dy: 0.01, width: 60, height: 40, maxIter: 20000 }));

test('compute crosses both ways: a job from the tab runs partly on the Node peer and one from Node partly in the tab, each equal to a lone node\'s result', async ({ context }, testInfo) => {
  test.setTimeout(120_000);
  const room = uniqueRoom(testInfo);
  // The lone result first: the Node peer alone in its room.
  const alone = startNodePeer();
  await alone.call('start', { config: { roomId: `${room}-alone`, enablePersistence: false } });
  const lone = await alone.call('submit', { task: 'mandelbrot', inputs: TILES, options: { redundancy: 1 } });
  expect((await alone.close()).code).toBe(0);
  expect(Object.keys(lone.byPeer)).toHaveLength(1);

  const { page, nodeId, tabId } = await nodeAndTab(context, room);
  await expect.poll(() => page.evaluate((id) => Object.keys(window.node.getComputeManager().getCapabilities().peers).includes(id), nodeId)).toBe(true);
  const fromTab = await page.evaluate(async (tiles) => {
    const job = window.node.getComputeManager().submitJob('mandelbrot', tiles, { redundancy: 1 });
    const outputs = await job.result;
    return { outputs: outputs.map((o) => [...o]), byPeer: job.stats.unitsByPeer };
  }, TILES);
  expect(fromTab.outputs).toEqual(lone.outputs);
  expect(fromTab.byPeer[nodeId] ?? 0, 'the Node peer ran some of the tab\'s tiles').toBeGreaterThan(0);

  const fromNode = await peer.call('submit', { task: 'mandelbrot', inputs: TILES, options: { redundancy: 1 } });
  expect(fromNode.outputs).toEqual(lone.outputs);
  expect(fromNode.byPeer[tabId] ?? 0, 'the tab ran some of the Node peer\'s tiles').toBeGreaterThan(0);
});

test('password rooms: a Node.js peer with the right password joins a tab, one with a wrong password learns nothing', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { page, nodeId } = await nodeAndTab(context, room, { password: 'correct horse' }, { password: 'correct horse' });
  await page.evaluate(() => window.node.getStateManager().write('secret', { plan: 'at dawn' }));
  await expect.poll(() => peer.call('read', { key: 'secret' })).toEqual({ plan: 'at dawn' });

  const stranger = startNodePeer();
  try {
    const strangerId = await stranger.call('start', {
      config: { roomId: room, enablePersistence: false, peerServer: peerConfig('127.0.0.1', SIGNAL_PORT), password: 'battery staple' },
    });
    // On the server (the control: it could have been found), for long
    // enough for several announce rounds and connection attempts.
    await expect.poll(async () => (await stranger.call('status')).network.signalingServer.state).toBe('registered');
    await page.waitForTimeout(4000);
    expect(await stranger.call('peers')).toEqual([]);
    expect(await stranger.call('read', { key: 'secret' })).toBeNull();
    expect(await page.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId))).toEqual([nodeId]);
    expect(await page.evaluate(() => window.node.getNetworkManager().getPeers().map((p) => p.peerId))).not.toContain(strangerId);
  } finally {
    expect((await stranger.close()).code).toBe(0);
  }
});
