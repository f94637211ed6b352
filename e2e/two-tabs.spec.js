// (a) Two tabs find each other with no server and share state both ways.
import { expect, test } from '@playwright/test';
import { connectedPeerIds, openStartedTabs, read, uniqueRoom, write } from './support/nodes.js';

test('two tabs list each other as connected within 5 s and share writes both ways', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;

  await expect.poll(() => connectedPeerIds(a), { timeout: 5_000 }).toEqual([ids[1]]);
  await expect.poll(() => connectedPeerIds(b), { timeout: 5_000 }).toEqual([ids[0]]);

  const peerRecord = await a.evaluate(() => window.node.getNetworkManager().getConnectedPeers()[0]);
  expect(peerRecord.peerId).toBe(ids[1]);
  expect(typeof peerRecord.connectedAt).toBe('number');
  expect(peerRecord).toHaveProperty('lastMessageTime');

  await write(a, 'from-a', { text: 'hello from A', n: 1 });
  await write(b, 'from-b', [1, 2, 3]);
  await expect.poll(() => read(b, 'from-a')).toEqual({ text: 'hello from A', n: 1 });
  await expect.poll(() => read(a, 'from-b')).toEqual([1, 2, 3]);
});

test('sendToPeer and broadcast deliver JSON messages to handlers', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;
  await expect.poll(() => connectedPeerIds(a)).toEqual([ids[1]]);

  await b.evaluate(() => {
    window.received = [];
    window.node.getNetworkManager().addMessageHandler((peerId, message) => window.received.push({ peerId, message }));
  });
  await a.evaluate((peer) => window.node.getNetworkManager().sendToPeer(peer, { kind: 'direct', n: 7 }), ids[1]);
  await a.evaluate(() => window.node.getNetworkManager().broadcast('to everyone'));
  await expect
    .poll(() => b.evaluate(() => window.received))
    .toEqual([
      { peerId: ids[0], message: { kind: 'direct', n: 7 } },
      { peerId: ids[0], message: 'to everyone' },
    ]);
});
