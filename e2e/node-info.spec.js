// (b) The demo page's #nodeInfo panel shows the node's metrics.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openTab, uniqueRoom } from './support/nodes.js';

async function initAndStartWithButtons(page) {
  await page.click('#initBtn');
  await expect(page.locator('#log')).toContainText('Node initialized successfully!');
  await page.click('#startBtn');
  return page.evaluate(() => window.node.nodeId);
}

test('#nodeInfo shows node id, peer id, connected peers, key count and state flags', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const a = await openTab(context, room);
  const b = await openTab(context, room);
  const idA = await initAndStartWithButtons(a);
  const idB = await initAndStartWithButtons(b);
  await expectConnectedTo(a, [idB]);

  const info = a.locator('#nodeInfo');
  await expect(info).toContainText('Node ID:');
  await expect(info).toContainText(idA);
  await expect(info).toContainText('Peer ID:');
  await expect(info).toContainText('Peers:');
  await expect(info).toContainText(idB); // the connected peer, shown without a click
  await expect(info).toContainText('Connected:');
  await expect(info).toContainText(/Connected:\s*(true|Yes)/i);
  await expect(info).toContainText(/hasPersistence/i);
  await expect(info).toContainText(/hasP2PSync/i);

  await a.fill('#stateKey', 'score');
  await a.fill('#stateValue', '42');
  await a.click('#writeBtn');
  await expect(info).toContainText(/Keys:\s*1\b/);
  await expect(b.locator('#nodeInfo')).toContainText(/Keys:\s*1\b/);

  await b.fill('#readKey', 'score');
  await b.click('#readBtn');
  await expect(b.locator('#readResult')).toContainText('42');
  await b.click('#snapshotBtn');
  await expect(b.locator('#stateSnapshot')).toContainText('"score"');
});
