// Room isolation, on both signaling transports. Each test has a positive
// control: the nodes that share a room (and game) do connect and sync, so the
// nodes that do not share it failing to meet is isolation, not a broken setup.
import { expect, test } from '@playwright/test';
import { openTab, read, uniqueRoom, write } from './support/nodes.js';
import {
  eventLog,
  expectConnectedPeers,
  holdsFor,
  networkStatus,
  openContextTabs,
  peersOf,
  startTrackedNode,
  watchPageHealth,
} from './support/server.js';

// Checks, over `ms`, that none of `pages` holds `key` nor has ever listed a
// peer of `foreign`.
async function expectIsolatedFor(pages, foreign, keys, ms) {
  await holdsFor(pages[0], ms, 500, async () => {
    for (const page of pages) {
      const view = await page.evaluate(
        (ks) => ({ values: ks.map((k) => window.node.getStateManager().read(k) ?? null), seen: window.__log.seenPeers }),
        keys,
      );
      expect(view.values).toEqual(keys.map(() => null));
      for (const id of foreign) expect(view.seen).not.toContain(id);
    }
  });
}

// What a node's own log shows at the end: it dropped no one (checked first:
// a failure shows why it did), connected only to `partners`, listed only
// them, and received only their messages and state.
async function expectOnlyMet(page, partners) {
  const log = await eventLog(page);
  expect(log.disconnected).toEqual([]);
  expect(log.seenPeers.sort()).toEqual([...partners].sort());
  expect(log.connected.map((e) => e.peerId).sort()).toEqual([...partners].sort());
  for (const m of log.messages) expect(partners).toContain(m.peerId);
  for (const c of log.stateChanges) if (c.origin !== null) expect(partners).toContain(c.origin);
}

// The positive control and the isolation check: each pair syncs a key and a
// message gets through in room A, while neither room ever sees the other's
// keys, ids or messages.
async function expectRoomsApart([a1, a2, b1, b2], [idA1, idA2, idB1, idB2]) {
  await write(a1, 'room-a-secret', { from: 'A' });
  await write(b1, 'room-b-secret', { from: 'B' });
  await a1.evaluate(() => window.node.getNetworkManager().broadcast({ hello: 'from room A' }));
  await expect.poll(() => read(a2, 'room-a-secret')).toEqual({ from: 'A' });
  await expect.poll(() => read(b2, 'room-b-secret')).toEqual({ from: 'B' });
  await expect.poll(async () => (await eventLog(a2)).messages.length).toBe(1);

  // The A pair has synced; B must still have nothing of A's, and A nothing of B's.
  await Promise.all([
    expectIsolatedFor([b1, b2], [idA1, idA2], ['room-a-secret'], 4_000),
    expectIsolatedFor([a1, a2], [idB1, idB2], ['room-b-secret'], 4_000),
  ]);
  await expectOnlyMet(a1, [idA2]);
  await expectOnlyMet(a2, [idA1]);
  await expectOnlyMet(b1, [idB2]);
  await expectOnlyMet(b2, [idB1]);
  expect((await eventLog(b2)).messages).toEqual([]);
}

test('same browser context (BroadcastChannel and server): rooms A and B never meet while each room syncs', async ({ browser }, testInfo) => {
  const roomA = uniqueRoom(testInfo);
  const roomB = uniqueRoom(testInfo);
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < 4; i++) pages.push(await openTab(context, roomA));
  const health = pages.map(watchPageHealth);
  const [a1, a2, b1, b2] = pages;
  const ids = [];
  for (const [page, roomId] of [[a1, roomA], [b1, roomB], [a2, roomA], [b2, roomB]]) {
    ids[pages.indexOf(page)] = await startTrackedNode(page, { roomId, peerServer: 'from-page' });
  }
  const [idA1, idA2, idB1, idB2] = ids;

  // Positive control: each room's pair connects, over BroadcastChannel.
  await expectConnectedPeers(a1, [idA2]);
  await expectConnectedPeers(a2, [idA1]);
  await expectConnectedPeers(b1, [idB2]);
  await expectConnectedPeers(b2, [idB1]);
  for (const page of pages) {
    expect((await peersOf(page))[0].signaling).toBe('broadcast-channel');
    // The server route is up too, so isolation holds on both transports.
    await expect.poll(async () => (await networkStatus(page)).signalingServer?.state).toBe('registered');
  }

  await expectRoomsApart([a1, a2, b1, b2], [idA1, idA2, idB1, idB2]);

  const statusA = await a1.evaluate(() => window.node.getStatus());
  const statusB = await b1.evaluate(() => window.node.getStatus());
  expect(statusA).toMatchObject({ roomId: roomA, gameId: null });
  expect(statusB).toMatchObject({ roomId: roomB, gameId: null });
  expect(statusA.network.transports).toEqual(['broadcast-channel', 'peerjs-server']);
  for (const problems of health) expect(problems).toEqual([]);
  await context.close();
});

test('separate browser contexts (server only): rooms A and B never meet while each room syncs', async ({ browser }, testInfo) => {
  const roomA = uniqueRoom(testInfo);
  const roomB = uniqueRoom(testInfo);
  // Four contexts: no two nodes share a BroadcastChannel; the server is the only way to meet.
  const { contexts, pages } = await openContextTabs(browser, roomA, 4);
  const health = pages.map(watchPageHealth);
  const [a1, a2, b1, b2] = pages;
  const ids = [];
  for (const [page, roomId] of [[a1, roomA], [b1, roomB], [a2, roomA], [b2, roomB]]) {
    ids[pages.indexOf(page)] = await startTrackedNode(page, { roomId, peerServer: 'from-page' });
  }
  const [idA1, idA2, idB1, idB2] = ids;

  await expectConnectedPeers(a1, [idA2]);
  await expectConnectedPeers(a2, [idA1]);
  await expectConnectedPeers(b1, [idB2]);
  await expectConnectedPeers(b2, [idB1]);
  for (const page of pages) {
    expect((await peersOf(page))[0].signaling).toBe('peerjs-server');
    // Four ids on the server, two rooms: each node lists only its partner.
    await expect.poll(async () => (await networkStatus(page)).signalingServer.roomMembers, { timeout: 15_000 }).toBe(1);
  }

  await expectRoomsApart([a1, a2, b1, b2], [idA1, idA2, idB1, idB2]);

  const statusA = await a2.evaluate(() => window.node.getStatus());
  expect(statusA).toMatchObject({ roomId: roomA, gameId: null });
  // Rooms differ in their server ids' tag, which does not spell the room out.
  const tagA = statusA.network.signalingServer.serverId.split('.')[0];
  const tagB = (await networkStatus(b2)).signalingServer.serverId.split('.')[0];
  expect(tagA).toMatch(/^[0-9a-f]{32}$/);
  expect(tagB).not.toBe(tagA);
  for (const problems of health) expect(problems).toEqual([]);
  for (const context of contexts) await context.close();
});

test('gameId: the same roomId in another game never connects, the same game and room does (both transports)', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  // Context 1 holds x1, x2 (game X), y1 (game Y) and n1 (no game); context 2
  // holds x3 (game X) and y2 (game Y). Every node has the same roomId.
  const c1 = await browser.newContext();
  const c2 = await browser.newContext();
  const [x1, x2, y1, n1] = [await openTab(c1, room), await openTab(c1, room), await openTab(c1, room), await openTab(c1, room)];
  const [x3, y2] = [await openTab(c2, room), await openTab(c2, room)];
  const all = [x1, x2, y1, n1, x3, y2];
  const health = all.map(watchPageHealth);
  const start = (page, gameId) => startTrackedNode(page, { roomId: room, gameId, peerServer: 'from-page' });
  const idX1 = await start(x1, 'game-x');
  const idY1 = await start(y1, 'game-y');
  const idN1 = await start(n1, undefined);
  const idX3 = await start(x3, 'game-x');
  const idX2 = await start(x2, 'game-x');
  const idY2 = await start(y2, 'game-y');

  // Game X forms a triangle: x1-x2 over BroadcastChannel, x3 to both over the server.
  await expectConnectedPeers(x1, [idX2, idX3]);
  await expectConnectedPeers(x2, [idX1, idX3]);
  await expectConnectedPeers(x3, [idX1, idX2]);
  // Game Y's pair meets over the server.
  await expectConnectedPeers(y1, [idY2]);
  await expectConnectedPeers(y2, [idY1]);
  const signalingOf = async (page, id) => (await peersOf(page)).find((p) => p.peerId === id)?.signaling;
  expect(await signalingOf(x1, idX2)).toBe('broadcast-channel');
  expect(await signalingOf(x1, idX3)).toBe('peerjs-server');
  expect(await signalingOf(y1, idY2)).toBe('peerjs-server');

  await write(x1, 'game-x-key', 'x');
  await write(y1, 'game-y-key', 'y');
  await write(n1, 'no-game-key', 'n');
  await expect.poll(() => read(x3, 'game-x-key')).toBe('x');
  await expect.poll(() => read(x2, 'game-x-key')).toBe('x');
  await expect.poll(() => read(y2, 'game-y-key')).toBe('y');

  await Promise.all([
    expectIsolatedFor([y1, y2], [idX1, idX2, idX3, idN1], ['game-x-key', 'no-game-key'], 4_000),
    expectIsolatedFor([x1, x2, x3], [idY1, idY2, idN1], ['game-y-key', 'no-game-key'], 4_000),
    expectIsolatedFor([n1], [idX1, idX2, idX3, idY1, idY2], ['game-x-key', 'game-y-key'], 4_000),
  ]);
  await expectOnlyMet(x1, [idX2, idX3]);
  await expectOnlyMet(x3, [idX1, idX2]);
  await expectOnlyMet(y1, [idY2]);
  await expectOnlyMet(y2, [idY1]);
  await expectOnlyMet(n1, []);

  expect(await x3.evaluate(() => window.node.getStatus())).toMatchObject({ roomId: room, gameId: 'game-x' });
  expect(await y1.evaluate(() => window.node.getStatus())).toMatchObject({ roomId: room, gameId: 'game-y' });
  expect(await n1.evaluate(() => window.node.getStatus())).toMatchObject({ roomId: room, gameId: null });
  for (const problems of health) expect(problems).toEqual([]);
  await c1.close();
  await c2.close();
});
