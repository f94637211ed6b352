// The signaling server crashes mid-session and comes back: connections that
// are up do not need it, the nodes re-register when it returns, and a node
// that arrives afterwards meets them all.
import { expect, test } from '@playwright/test';
import { connectedPeerIds, openTab, read, uniqueRoom, write } from './support/nodes.js';
import {
  eventLog,
  expectConnectedPeers,
  freePort,
  holdsFor,
  networkStatus,
  peersOf,
  spawnSignalingServer,
  stateData,
  startTrackedNode,
  watchPageHealth,
} from './support/server.js';

test('a pair stays connected and syncs while the server is down; after its restart both re-register and a new node joins', async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const room = uniqueRoom(testInfo);
  const port = await freePort();
  let server = await spawnSignalingServer(port);
  const contexts = [];
  try {
    const peerServer = { host: 'localhost', port, path: '/peerjs', secure: false, key: 'peerjs' };
    const newTab = async () => {
      const context = await browser.newContext();
      contexts.push(context);
      return openTab(context, room);
    };
    const a = await newTab();
    const b = await newTab();
    const health = [a, b].map(watchPageHealth);
    const idA = await startTrackedNode(a, { roomId: room, peerServer });
    const idB = await startTrackedNode(b, { roomId: room, peerServer });
    await expectConnectedPeers(a, [idB]);
    await expectConnectedPeers(b, [idA]);
    expect((await peersOf(a))[0].signaling).toBe('peerjs-server');
    await write(a, 'before-crash', 1);
    await expect.poll(() => read(b, 'before-crash')).toBe(1);
    for (const page of [a, b]) {
      const { signalingServer } = await networkStatus(page);
      expect(signalingServer).toMatchObject({ state: 'registered', reconnects: 0 });
    }

    // The server dies as a crash would: no goodbye to anyone.
    await server.kill();
    for (const page of [a, b]) {
      await expect.poll(async () => (await networkStatus(page)).signalingServer.state).not.toBe('registered');
    }
    // The data channel does not depend on the server.
    await holdsFor(a, 5_000, 500, async () => {
      expect(await connectedPeerIds(a)).toEqual([idB]);
      expect(await connectedPeerIds(b)).toEqual([idA]);
    });
    await write(a, 'during-outage-a', { by: 'a' });
    await write(b, 'during-outage-b', { by: 'b' });
    await expect.poll(() => read(b, 'during-outage-a')).toEqual({ by: 'a' });
    await expect.poll(() => read(a, 'during-outage-b')).toEqual({ by: 'b' });
    await a.evaluate(() => window.node.getNetworkManager().broadcast({ during: 'outage' }));
    await expect.poll(async () => (await eventLog(b)).messages.map((m) => m.message)).toEqual([{ during: 'outage' }]);

    // Back on the same port, empty: the nodes must register again by themselves.
    server = await spawnSignalingServer(port);
    for (const page of [a, b]) {
      await expect
        .poll(async () => (await networkStatus(page)).signalingServer.state, { timeout: 20_000 })
        .toBe('registered');
      const { signalingServer } = await networkStatus(page);
      expect(signalingServer.reconnects).toBeGreaterThanOrEqual(1);
    }
    // A node in a third context can only find them through the restarted server.
    const c = await newTab();
    health.push(watchPageHealth(c));
    const idC = await startTrackedNode(c, { roomId: room, peerServer });
    await write(c, 'from-newcomer', 'c');
    await expectConnectedPeers(c, [idA, idB], 20_000);
    await expectConnectedPeers(a, [idB, idC]);
    await expectConnectedPeers(b, [idA, idC]);
    for (const peer of await peersOf(c)) expect(peer.signaling).toBe('peerjs-server');

    const expected = {
      'before-crash': 1,
      'during-outage-a': { by: 'a' },
      'during-outage-b': { by: 'b' },
      'from-newcomer': 'c',
    };
    for (const page of [a, b, c]) await expect.poll(() => stateData(page)).toEqual(expected);
    // The original pair never dropped each other.
    for (const page of [a, b]) expect((await eventLog(page)).disconnected).toEqual([]);
    for (const problems of health) expect(problems).toEqual([]);
  } finally {
    await server.kill();
    for (const context of contexts) await context.close();
  }
});
