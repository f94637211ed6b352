// Room passwords: the right one connects and syncs on both transports, a
// wrong one or none learns nothing, and what the signaling server relays is
// sealed (js-glue/crypto/room-crypto.js).
import { expect, test } from '@playwright/test';
import { connectedPeerIds, openTab, read, uniqueRoom, write } from './support/nodes.js';
import {
  RawSignalingClient,
  SIGNAL_PORT,
  eventLog,
  expectConnectedPeers,
  holdsFor,
  networkStatus,
  openContextTabs,
  peersOf,
  startTrackedNode,
  watchPageHealth,
} from './support/server.js';

const PASSWORD = 'correct horse battery staple';

async function expectVerifiedPair(pageA, idA, pageB, idB, signaling) {
  await expectConnectedPeers(pageA, [idB]);
  await expectConnectedPeers(pageB, [idA]);
  for (const [page, other] of [[pageA, idB], [pageB, idA]]) {
    const [peer] = await peersOf(page);
    expect(peer).toMatchObject({ peerId: other, state: 'connected', passwordVerified: true, signaling });
    expect((await networkStatus(page)).passwordProtected).toBe(true);
  }
}

async function expectSyncsBothWays(pageA, pageB) {
  await write(pageA, 'from-a', { n: 1 });
  await write(pageB, 'from-b', [2, 'two']);
  await expect.poll(() => read(pageB, 'from-a')).toEqual({ n: 1 });
  await expect.poll(() => read(pageA, 'from-b')).toEqual([2, 'two']);
  await pageA.evaluate(() => window.node.getNetworkManager().broadcast({ greeting: 'sealed room' }));
  await expect.poll(async () => (await eventLog(pageB)).messages.map((m) => m.message)).toEqual([{ greeting: 'sealed room' }]);
}

test('the right password connects two browser contexts through the server, verified, and they sync', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { contexts, pages } = await openContextTabs(browser, room, 2);
  const health = pages.map(watchPageHealth);
  const idA = await startTrackedNode(pages[0], { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  await write(pages[0], 'before', 'written before the other joined');
  const idB = await startTrackedNode(pages[1], { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  await expectVerifiedPair(pages[0], idA, pages[1], idB, 'peerjs-server');
  await expect.poll(() => read(pages[1], 'before')).toBe('written before the other joined');
  await expectSyncsBothWays(pages[0], pages[1]);
  for (const problems of health) expect(problems).toEqual([]);
  for (const context of contexts) await context.close();
});

test('the right password connects two tabs of one context over BroadcastChannel, verified, and they sync', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const pages = [await openTab(context, room), await openTab(context, room)];
  const health = pages.map(watchPageHealth);
  const idA = await startTrackedNode(pages[0], { roomId: room, password: PASSWORD });
  const idB = await startTrackedNode(pages[1], { roomId: room, password: PASSWORD });
  await expectVerifiedPair(pages[0], idA, pages[1], idB, 'broadcast-channel');
  await expectSyncsBothWays(pages[0], pages[1]);
  for (const problems of health) expect(problems).toEqual([]);
});

test('a wrong password connects to no one and learns nothing while the right-password pair talks for 8 s', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  // Context 1: the right-password p1 and the wrong-password w1, who share a
  // BroadcastChannel origin and the server. Context 2: p2. Context 3: w2,
  // with another wrong password (so w1 and w2 do not form a room of their own).
  const c1 = await browser.newContext();
  const c2 = await browser.newContext();
  const c3 = await browser.newContext();
  const [p1, w1, p2, w2] = [await openTab(c1, room), await openTab(c1, room), await openTab(c2, room), await openTab(c3, room)];
  const health = [p1, w1, p2, w2].map(watchPageHealth);
  const idP1 = await startTrackedNode(p1, { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  const idW1 = await startTrackedNode(w1, { roomId: room, password: 'Correct horse battery staple', peerServer: 'from-page' });
  const idP2 = await startTrackedNode(p2, { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  const idW2 = await startTrackedNode(w2, { roomId: room, password: 'hunter2', peerServer: 'from-page' });
  await expectVerifiedPair(p1, idP1, p2, idP2, 'peerjs-server');
  for (const w of [w1, w2]) {
    // The wrong nodes are up and on the server: they had every chance to meet the pair.
    await expect.poll(async () => (await networkStatus(w)).signalingServer.state).toBe('registered');
    expect((await networkStatus(w)).passwordProtected).toBe(true);
  }

  // The pair writes and messages each 400 ms for 8 s; the wrong nodes must
  // not see a peer, a key or a message at any sample.
  let n = 0;
  await holdsFor(p1, 8_000, 400, async () => {
    n++;
    await write(p1, `tick-${n}`, n);
    await p1.evaluate((i) => window.node.getNetworkManager().broadcast({ tick: i }), n);
    for (const w of [w1, w2]) {
      const view = await w.evaluate(() => ({
        peers: window.node.getNetworkManager().getPeers(),
        keys: window.node.getStateManager().keys(),
        keyCount: window.node.getStatus().state.keyCount,
        messagesIn: window.node.getStatus().network.messagesIn,
      }));
      expect(view).toEqual({ peers: [], keys: [], keyCount: 0, messagesIn: 0 });
    }
  });
  // Positive control: the pair did talk the whole time.
  await expect.poll(() => read(p2, `tick-${n}`)).toBe(n);
  await expect.poll(async () => (await eventLog(p2)).messages.length).toBe(n);

  for (const w of [w1, w2]) {
    const log = await eventLog(w);
    expect(log).toEqual({ connected: [], disconnected: [], messages: [], stateChanges: [], seenPeers: [] });
  }
  // They had every chance: the room's tag does not depend on the password, so
  // the wrong nodes registered under the pair's tag, and the pair's sealed
  // signals reached them (through the server, and w1's on BroadcastChannel
  // too), only to be refused because they do not unseal.
  const tagOf = async (page) => (await networkStatus(page)).signalingServer.serverId.split('.')[0];
  const tag = await tagOf(p1);
  expect(await tagOf(p2)).toBe(tag);
  for (const w of [w1, w2]) {
    expect(await tagOf(w)).toBe(tag);
    await expect.poll(async () => (await networkStatus(w)).rejectedSignals, { timeout: 25_000 }).toBeGreaterThan(0);
    expect((await networkStatus(w)).lastRejection).toMatch(/^signal: .*did not decrypt/);
    expect(await w.evaluate(() => window.node.getNetworkManager().getPeers())).toEqual([]);
  }
  for (const [p, other] of [[p1, idP2], [p2, idP1]]) {
    const log = await eventLog(p);
    expect(log.seenPeers).toEqual([other]);
    expect(log.seenPeers).not.toContain(idW1);
    expect(log.seenPeers).not.toContain(idW2);
  }
  for (const problems of health) expect(problems).toEqual([]);
  for (const context of [c1, c2, c3]) await context.close();
});

test('a node without a password and one with it never connect, in one context or across contexts', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  // Context 1: open o1 and sealed s1; context 2: open o2 and sealed s2. Same room.
  const c1 = await browser.newContext();
  const c2 = await browser.newContext();
  const [o1, s1, o2, s2] = [await openTab(c1, room), await openTab(c1, room), await openTab(c2, room), await openTab(c2, room)];
  const health = [o1, s1, o2, s2].map(watchPageHealth);
  const idO1 = await startTrackedNode(o1, { roomId: room, peerServer: 'from-page' });
  const idS1 = await startTrackedNode(s1, { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  const idO2 = await startTrackedNode(o2, { roomId: room, peerServer: 'from-page' });
  const idS2 = await startTrackedNode(s2, { roomId: room, password: PASSWORD, peerServer: 'from-page' });

  // Positive controls: each kind meets its own kind across the contexts.
  await expectVerifiedPair(s1, idS1, s2, idS2, 'peerjs-server');
  await expectConnectedPeers(o1, [idO2]);
  await expectConnectedPeers(o2, [idO1]);
  expect((await peersOf(o1))[0]).toMatchObject({ peerId: idO2, passwordVerified: false, signaling: 'peerjs-server' });
  expect((await networkStatus(o1)).passwordProtected).toBe(false);

  await write(o1, 'open-key', 'open');
  await write(s1, 'sealed-key', 'sealed');
  await expect.poll(() => read(o2, 'open-key')).toBe('open');
  await expect.poll(() => read(s2, 'sealed-key')).toBe('sealed');
  await holdsFor(o1, 4_000, 500, async () => {
    for (const [page, foreignKey] of [[o1, 'sealed-key'], [o2, 'sealed-key'], [s1, 'open-key'], [s2, 'open-key']]) {
      expect(await read(page, foreignKey)).toBeUndefined();
    }
  });
  for (const [page, other] of [[o1, idO2], [o2, idO1], [s1, idS2], [s2, idS1]]) {
    const log = await eventLog(page);
    expect(log.seenPeers).toEqual([other]);
    expect(log.connected.map((e) => e.peerId)).toEqual([other]);
  }
  for (const problems of health) expect(problems).toEqual([]);
  await c1.close();
  await c2.close();
});

// Records, before any page script runs, every WebSocket URL, every frame the
// page sends and every frame it receives.
const recordWebSockets = () => {
  const Native = window.WebSocket;
  const record = { urls: [], sent: [], received: [] };
  window.__ws = record;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      record.urls.push(String(args[0]));
      this.addEventListener('message', (event) => record.received.push(typeof event.data === 'string' ? event.data : '[binary]'));
    }
    send(data) {
      record.sent.push(typeof data === 'string' ? data : '[binary]');
      return super.send(data);
    }
  };
};

// The relayed signaling frames (those with a payload) a page sent and received.
async function signalingFrames(page) {
  const { urls, sent, received } = await page.evaluate(() => window.__ws);
  const relayed = (texts) => texts.map((t) => JSON.parse(t)).filter((m) => m.payload !== undefined);
  return { urls, sent: relayed(sent), received: relayed(received) };
}

test('what the server relays for a password room is sealed: no room name, SDP or candidate in any payload', async ({ browser }, testInfo) => {
  const sealedRoom = uniqueRoom(testInfo);
  const openRoom = uniqueRoom(testInfo);
  const contexts = [];
  const pages = [];
  for (let i = 0; i < 4; i++) {
    const context = await browser.newContext();
    await context.addInitScript(recordWebSockets);
    contexts.push(context);
    pages.push(await openTab(context, sealedRoom));
  }
  const health = pages.map(watchPageHealth);
  const [s1, s2, o1, o2] = pages;
  const idS1 = await startTrackedNode(s1, { roomId: sealedRoom, password: PASSWORD, peerServer: 'from-page' });
  const idS2 = await startTrackedNode(s2, { roomId: sealedRoom, password: PASSWORD, peerServer: 'from-page' });
  // The control: a room without a password, through the same recorder.
  const idO1 = await startTrackedNode(o1, { roomId: openRoom, peerServer: 'from-page' });
  const idO2 = await startTrackedNode(o2, { roomId: openRoom, peerServer: 'from-page' });
  await expectVerifiedPair(s1, idS1, s2, idS2, 'peerjs-server');
  await expectConnectedPeers(o1, [idO2]);
  await expectConnectedPeers(o2, [idO1]);
  await write(s1, 'sealed', true);
  await expect.poll(() => read(s2, 'sealed')).toBe(true);

  // The recorder does see signaling in the clear when there is no password.
  const open = [await signalingFrames(o1), await signalingFrames(o2)];
  const openPayloads = open.flatMap((f) => [...f.sent, ...f.received]).map((m) => m.payload);
  expect(openPayloads.some((p) => p.includes('v=0'))).toBe(true);
  expect(openPayloads.some((p) => p.includes('candidate'))).toBe(true);
  expect(openPayloads.some((p) => p.includes(openRoom))).toBe(true);

  for (const page of [s1, s2]) {
    const { urls, sent, received } = await signalingFrames(page);
    // The connection formed through these frames: each side sent and got some.
    expect(sent.length).toBeGreaterThan(0);
    expect(received.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).not.toContain(encodeURIComponent(sealedRoom));
      expect(url).not.toContain(sealedRoom);
    }
    for (const frame of [...sent, ...received]) {
      expect(typeof frame.payload).toBe('string');
      expect(frame.payload).toMatch(/^pcs1\.[A-Za-z0-9+/]+=*$/);
      const text = JSON.stringify(frame);
      expect(text).not.toContain(sealedRoom);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('v=0');
      expect(frame.payload.toLowerCase()).not.toContain('candidate');
      expect(frame.payload).not.toContain(idS1);
      expect(frame.payload).not.toContain(idS2);
    }
  }
  for (const problems of health) expect(problems).toEqual([]);
  for (const context of contexts) await context.close();
});

test('a client that finds the room on the server gets only sealed announces, and its forged signals are rejected', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { contexts, pages } = await openContextTabs(browser, room, 2);
  const health = pages.map(watchPageHealth);
  const [s1, s2] = pages;
  const idS1 = await startTrackedNode(s1, { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  const idS2 = await startTrackedNode(s2, { roomId: room, password: PASSWORD, peerServer: 'from-page' });
  await expectVerifiedPair(s1, idS1, s2, idS2, 'peerjs-server');

  // The server lists every id (allow_discovery), so an eavesdropper can learn
  // the room's tag and register under it, but not the password.
  const serverIds = [(await networkStatus(s1)).signalingServer.serverId, (await networkStatus(s2)).signalingServer.serverId];
  const tag = serverIds[0].split('.')[0];
  expect(serverIds[1].split('.')[0]).toBe(tag);
  const evilId = 'pc--eavesdropper';
  const evil = await RawSignalingClient.connect({ port: SIGNAL_PORT, id: `${tag}.${evilId}` });
  try {
    // Both nodes list the server every 10 s and announce to the members they
    // have no connection with: the eavesdropper.
    await expect
      .poll(() => new Set(evil.received.filter((m) => m.type === 'OFFER').map((m) => m.src)).size, { timeout: 25_000 })
      .toBe(2);
    const announces = evil.received.filter((m) => m.payload !== undefined);
    for (const m of announces) {
      expect(m.payload).toMatch(/^pcs1\./);
      expect(m.payload).not.toContain(room);
      expect(m.payload).not.toContain(idS1);
    }

    const before = [(await networkStatus(s1)).rejectedSignals, (await networkStatus(s2)).rejectedSignals];
    const plainAnnounce = (from) => JSON.stringify({ v: 1, t: 'announce', room, from, inc: 1 });
    const fromS1 = announces.find((m) => m.src === serverIds[0]).payload;
    const junk = 'pcs1.' + Buffer.from('x'.repeat(64)).toString('base64');
    for (const dst of serverIds) {
      evil.send('OFFER', dst, plainAnnounce(evilId)); // unsealed: does not decrypt
      evil.send('OFFER', dst, plainAnnounce(idS1)); // unsealed and forged
      evil.send('OFFER', dst, junk); // sealed-looking, wrong key
      evil.send('OFFER', dst, 'pcs1.@@@not base64@@@');
      evil.send('LEAVE', dst, fromS1); // s1's own sealed announce, replayed by another sender
    }
    await evil.flushed();
    // The first four are refused by each node (the replay is refused or, when
    // it was addressed to the eavesdropper, ignored).
    await expect.poll(async () => (await networkStatus(s1)).rejectedSignals - before[0]).toBeGreaterThanOrEqual(4);
    await expect.poll(async () => (await networkStatus(s2)).rejectedSignals - before[1]).toBeGreaterThanOrEqual(4);
    expect((await networkStatus(s2)).lastRejection).toMatch(/^signal: /);

    // Nothing came of it: the pair is as it was, and the eavesdropper is no peer.
    await holdsFor(s1, 2_000, 500, async () => {
      expect(await connectedPeerIds(s1)).toEqual([idS2]);
      expect(await connectedPeerIds(s2)).toEqual([idS1]);
    });
    for (const page of [s1, s2]) {
      const log = await eventLog(page);
      expect(log.seenPeers).not.toContain(evilId);
      expect(log.disconnected).toEqual([]);
    }
    await write(s2, 'still-syncing', 1);
    await expect.poll(() => read(s1, 'still-syncing')).toBe(1);
  } finally {
    evil.close();
  }
  for (const problems of health) expect(problems).toEqual([]);
  for (const context of contexts) await context.close();
});
