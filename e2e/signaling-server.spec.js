// Nodes in separate browser contexts share no BroadcastChannel: they can only
// meet through the PeerJS signaling server the demo server starts.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openTab, read, startConfiguredNode, status, uniqueRoom, write } from './support/nodes.js';

test('two browser contexts meet through the signaling server and share state', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const contexts = [await browser.newContext(), await browser.newContext()];
  const pages = [await openTab(contexts[0], room), await openTab(contexts[1], room)];
  const ids = [await startConfiguredNode(pages[0], { roomId: room, peerServer: 'from-page' })];
  await write(pages[0], 'before', 'written before the other joined');
  ids.push(await startConfiguredNode(pages[1], { roomId: room, peerServer: 'from-page' }));
  await expectConnectedTo(pages[0], [ids[1]]);
  await expectConnectedTo(pages[1], [ids[0]]);
  await expect.poll(() => read(pages[1], 'before')).toBe('written before the other joined');
  await write(pages[1], 'after', 42);
  await expect.poll(() => read(pages[0], 'after')).toBe(42);
  const s = await status(pages[0]);
  expect(s.network.signalingServer.state).toBe('registered');
  const peers = await pages[0].evaluate(() => window.node.getNetworkManager().getPeers());
  expect(peers[0].signaling).toBe('peerjs-server');
  for (const c of contexts) await c.close();
});
