// (e) A closed tab leaves its peers' lists.
import { expect, test } from '@playwright/test';
import { connectedPeerIds, expectConnectedTo, openStartedTabs, uniqueRoom } from './support/nodes.js';

test('a closed tab leaves its peers lists and raises peer-disconnected', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 3);
  const [a, b, c] = pages;
  await expectConnectedTo(a, [ids[1], ids[2]]);
  await expectConnectedTo(b, [ids[0], ids[2]]);

  for (const page of [a, b]) {
    await page.evaluate(() => {
      window.disconnected = [];
      window.node.on('peer-disconnected', ({ peerId }) => window.disconnected.push(peerId));
    });
  }
  await c.close();

  for (const [page, remaining] of [
    [a, [ids[1]]],
    [b, [ids[0]]],
  ]) {
    await expect.poll(() => connectedPeerIds(page), { timeout: 5_000 }).toEqual(remaining);
    expect(await page.evaluate(() => window.disconnected)).toEqual([ids[2]]);
  }
});
