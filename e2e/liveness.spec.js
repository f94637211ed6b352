// Liveness with the default timings, through the signaling server across
// browser contexts: a closed tab is noticed quickly, and an idle pair is not
// mistaken for a dead one.
import { expect, test } from '@playwright/test';
import { connectedPeerIds, uniqueRoom } from './support/nodes.js';
import { eventLog, expectConnectedPeers, networkStatus, openContextTabs, peersOf, startTrackedNode, watchPageHealth } from './support/server.js';

test('a closed tab is detected within 5 s by default: its peer raises peer-disconnected', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { contexts, pages } = await openContextTabs(browser, room, 2);
  const [a, b] = pages;
  const health = watchPageHealth(a);
  const idA = await startTrackedNode(a, { roomId: room, peerServer: 'from-page' });
  const idB = await startTrackedNode(b, { roomId: room, peerServer: 'from-page' });
  await expectConnectedPeers(a, [idB]);
  await expectConnectedPeers(b, [idA]);
  expect((await peersOf(a))[0].signaling).toBe('peerjs-server');
  // Default timings: the test configures none.
  expect(await a.evaluate(() => window.node.config.peerTimeoutMs)).toBe(
    await a.evaluate(async () => (await import('/dist/peercompute.js')).DEFAULT_CONFIG.peerTimeoutMs),
  );

  await a.evaluate(() => (window.__closedAt = performance.now()));
  await b.close();
  await expect.poll(async () => (await eventLog(a)).disconnected.length, { timeout: 10_000 }).toBe(1);
  const [event] = (await eventLog(a)).disconnected;
  const closedAt = await a.evaluate(() => window.__closedAt);
  expect(event.peerId).toBe(idB);
  expect(event.at - closedAt).toBeLessThan(5_000);
  expect(await connectedPeerIds(a)).toEqual([]);
  expect((await networkStatus(a)).peerCount).toBe(0);
  expect(health).toEqual([]);
  for (const context of contexts) await context.close();
});

test('an idle pair (no writes, no messages) stays connected for 60 s', async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const room = uniqueRoom(testInfo);
  const { contexts, pages } = await openContextTabs(browser, room, 2);
  const [a, b] = pages;
  const health = pages.map(watchPageHealth);
  const idA = await startTrackedNode(a, { roomId: room, peerServer: 'from-page' });
  const idB = await startTrackedNode(b, { roomId: room, peerServer: 'from-page' });
  await expectConnectedPeers(a, [idB]);
  await expectConnectedPeers(b, [idA]);

  for (let tick = 1; tick <= 12; tick++) {
    await a.waitForTimeout(5_000);
    for (const [page, other] of [[a, idB], [b, idA]]) {
      const peers = await peersOf(page);
      expect(peers.map((p) => [p.peerId, p.state]), `after ${tick * 5} s`).toEqual([[other, 'connected']]);
      expect((await eventLog(page)).disconnected, `after ${tick * 5} s`).toEqual([]);
    }
  }
  for (const [page, other] of [[a, idB], [b, idA]]) {
    const [peer] = await peersOf(page);
    // Idle as far as the application goes: the keepalive alone kept it up.
    expect(peer).toMatchObject({ peerId: other, messagesIn: 0, messagesOut: 0 });
    expect(peer.rttMs).not.toBeNull();
    const log = await eventLog(page);
    expect(log.messages).toEqual([]);
    expect(log.stateChanges).toEqual([]);
    expect(log.connected.map((e) => e.peerId)).toEqual([other]);
    expect((await networkStatus(page)).signalingServer.state).toBe('registered');
  }
  for (const problems of health) expect(problems).toEqual([]);
  for (const context of contexts) await context.close();
});
