// A peer that vanishes without a word (its renderer crashes: no pagehide, no
// leave, no channel close) is dropped by liveness within 5 s by default.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openTab, startConfiguredNode, uniqueRoom } from './support/nodes.js';

test('a crashed peer is removed within 5 s and peer-disconnected is raised', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const contexts = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await openTab(contexts[0], room), await openTab(contexts[1], room)];
  const idA = await startConfiguredNode(a, { roomId: room, peerServer: 'from-page' });
  const idB = await startConfiguredNode(b, { roomId: room, peerServer: 'from-page' });
  await expectConnectedTo(a, [idB]);
  await expectConnectedTo(b, [idA]);
  await a.evaluate(() => {
    window.gone = null;
    window.node.on('peer-disconnected', ({ peerId, reason }) => (window.gone ??= { peerId, reason, at: Date.now() }));
  });
  const crashed = b.waitForEvent('crash');
  const crashAt = Date.now();
  await b.goto('chrome://crash').catch(() => {});
  await crashed;
  await expect.poll(() => a.evaluate(() => window.gone), { timeout: 10_000 }).not.toBeNull();
  const gone = await a.evaluate(() => window.gone);
  expect(gone.peerId).toBe(idB);
  console.log(`crashed peer dropped after ${gone.at - crashAt} ms (${gone.reason})`);
  expect(gone.at - crashAt).toBeLessThanOrEqual(5000);
  expect(await a.evaluate(() => window.node.getNetworkManager().getConnectedPeers().length)).toBe(0);
  for (const c of contexts) await c.close();
});
