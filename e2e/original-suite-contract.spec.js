// The contract the original library's Playwright suite relies on: its loose
// selectors (button:has-text), its log texts, the default room, and the shape
// of getStatus() (network.connections is a count). Apps and tests written
// against the original must run unchanged.
import { expect, test } from '@playwright/test';

async function initializeAndStart(page) {
  await page.goto('/test-p2p.html');
  await page.waitForLoadState('networkidle');
  await page.click('button:has-text("Initialize")');
  await page.waitForSelector('text=Node initialized', { timeout: 10_000 });
  await page.click('button:has-text("Start")');
  await page.waitForFunction(() => window.node?.getStatus()?.isStarted === true, null, { timeout: 15_000 });
}

const statusOf = (page) => page.evaluate(() => window.node.getStatus());

test('two nodes in the default room connect, count connections and sync state', async ({ context }) => {
  const [a, b] = [await context.newPage(), await context.newPage()];
  await initializeAndStart(a);
  await initializeAndStart(b);

  const [idA, idB] = [(await statusOf(a)).network.peerId, (await statusOf(b)).network.peerId];
  expect(idA).toBeTruthy();
  expect(idA).not.toBe(idB);

  await expect.poll(async () => (await statusOf(a)).network.connections, { timeout: 5_000 }).toBe(1);
  await expect.poll(async () => (await statusOf(b)).network.connections, { timeout: 5_000 }).toBe(1);
  expect(await a.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId))).toEqual([idB]);

  const key = `test-${Date.now()}`;
  await a.evaluate((k) => window.node.getStateManager().write(k, 'Hello from Node 1'), key);
  await expect.poll(() => b.evaluate((k) => window.node.getStateManager().read(k), key)).toBe('Hello from Node 1');
});

test('the lifecycle through loose button selectors and log texts', async ({ page }) => {
  await page.goto('/test-p2p.html');
  await page.click('button:has-text("Initialize")');
  await page.waitForSelector('text=Node initialized', { timeout: 10_000 });
  expect(await statusOf(page)).toMatchObject({ isInitialized: true, isStarted: false });

  await page.click('button:has-text("Start")');
  await page.waitForFunction(() => window.node?.getStatus()?.isStarted === true);
  const text = await page.locator('#nodeInfo').textContent();
  for (const label of ['Peer ID:', 'Peers:', 'Connected:']) expect(text).toContain(label);

  await page.click('button:has-text("Stop")');
  await page.waitForSelector('text=Node stopped', { timeout: 5_000 });
  expect((await statusOf(page)).isStarted).toBe(false);
});

test('three idle nodes stay connected for 30 s (the original dropped idle links after ~10 s)', async ({ context }) => {
  test.setTimeout(90_000);
  const pages = [await context.newPage(), await context.newPage(), await context.newPage()];
  for (const page of pages) await initializeAndStart(page);
  for (const page of pages) {
    await expect.poll(async () => (await statusOf(page)).network.connections, { timeout: 10_000 }).toBe(2);
  }
  for (const page of pages) {
    await page.evaluate(() => {
      window.dropped = [];
      window.node.on('peer-disconnected', (e) => window.dropped.push(e));
    });
  }
  for (let tick = 0; tick < 6; tick++) {
    await pages[0].waitForTimeout(5_000);
    for (const page of pages) {
      const { network } = await statusOf(page);
      expect(network.connections).toBe(2);
      expect(network.peerCount).toBe(2);
    }
  }
  for (const page of pages) expect(await page.evaluate(() => window.dropped)).toEqual([]);
});
