// (c) initialize → start → stop → start again, through the demo page's buttons.
import { expect, test } from '@playwright/test';
import { connectedPeerIds, expectConnectedTo, openTab, read, startNode, uniqueRoom, write } from './support/nodes.js';

test('initialize, start, stop and start again; the node reconnects and keeps its state', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const page = await openTab(context, room);
  const other = await openTab(context, room);
  const otherId = await startNode(other);

  const started = () => page.evaluate(() => window.node.getStatus().isStarted);

  await page.click('#initBtn');
  await expect(page.locator('#log')).toContainText('Node initialized successfully!');
  expect(await page.evaluate(() => window.node.getStatus().isInitialized)).toBe(true);

  await page.click('#startBtn');
  await expect.poll(started).toBe(true);
  await expectConnectedTo(page, [otherId]);
  await write(page, 'before-stop', 1);

  await page.click('#stopBtn');
  await expect(page.locator('#log')).toContainText('Node stopped');
  await expect.poll(started).toBe(false);
  expect(await connectedPeerIds(page)).toEqual([]);
  await expect.poll(() => connectedPeerIds(other)).toEqual([]);

  await write(other, 'while-stopped', 2);
  await page.click('#startBtn');
  await expect.poll(started).toBe(true);
  await expectConnectedTo(page, [otherId]);
  expect(await read(page, 'before-stop')).toBe(1);
  await expect.poll(() => read(page, 'while-stopped')).toBe(2);
});

test('start() before initialize() throws, as in the original', async ({ context }, testInfo) => {
  const page = await openTab(context, uniqueRoom(testInfo));
  const message = await page.evaluate(async () => {
    try {
      await window.node.start();
      return 'no error';
    } catch (error) {
      return error.message;
    }
  });
  expect(message).toMatch(/initialize/);
  expect(await page.evaluate(() => window.node.getStatus().isStarted)).toBe(false);
});
