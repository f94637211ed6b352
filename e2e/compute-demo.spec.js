// The distributed-compute demo (web/compute.html): every tab that opens it
// joins the room as a worker, and one button renders a Mandelbrot image whose
// tiles are computed across all of them.
import { expect, test } from '@playwright/test';
import { uniqueRoom } from './support/nodes.js';

const TILES = 64;
const MAX_ITER = 2000; // heavy enough that a second tab's workers get tiles too

async function openComputeTab(context, room) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`/compute.html?room=${encodeURIComponent(room)}`);
  await page.waitForFunction(() => window.computeDemo && window.node);
  await page.evaluate(() => window.computeDemo.ready());
  await expect(page.locator('#renderBtn')).toBeEnabled();
  const id = await page.evaluate(() => window.node.nodeId);
  return { page, id, problems };
}

function connectedIds(page) {
  return page.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId).sort());
}

// The workers a tab's scheduler knows a peer to offer (0 until it advertised them).
function peerWorkers(page, peerId) {
  return page.evaluate((id) => window.node.getComputeManager().getCapabilities().peers[id]?.workers ?? 0, peerId);
}

async function peerRows(page) {
  return page.locator('#peerTableBody tr[data-peer]').evaluateAll((rows) =>
    rows.map((row) => ({
      peer: row.dataset.peer,
      self: row.classList.contains('self'),
      units: Number(row.querySelector('td.units').textContent),
    })),
  );
}

test('two tabs render one Mandelbrot image together, identical to a single tab alone', async ({ context }, testInfo) => {
  test.setTimeout(120_000);
  const room = uniqueRoom(testInfo);
  const a = await openComputeTab(context, room);
  const b = await openComputeTab(context, room);

  await expect.poll(() => connectedIds(a.page), { timeout: 15_000 }).toEqual([b.id]);
  await expect.poll(() => connectedIds(b.page), { timeout: 15_000 }).toEqual([a.id]);
  // A's scheduler must know B as a worker before the render, or A keeps every tile.
  await expect.poll(() => peerWorkers(a.page, b.id), { timeout: 15_000 }).toBeGreaterThan(0);
  await expect(a.page.locator('#peerCount')).toHaveText('1');

  // The button renders with the form's choices.
  await a.page.selectOption('#tilesSelect', String(TILES));
  await a.page.selectOption('#maxIterSelect', String(MAX_ITER));
  await a.page.selectOption('#redundancySelect', '1');
  await a.page.click('#renderBtn');

  await expect(a.page.locator('#progressText')).toHaveText(`${TILES} / ${TILES} tiles`, { timeout: 60_000 });
  await expect(a.page.locator('#progress')).toHaveJSProperty('value', TILES);
  await expect(a.page.locator('#progress')).toHaveJSProperty('max', TILES);
  await expect.poll(() => a.page.evaluate(() => window.computeDemo.lastImageHash())).toMatch(/^[0-9a-f]{8}$/);
  const buttonHash = await a.page.evaluate(() => window.computeDemo.lastImageHash());
  await expect(a.page.locator('#renderBtn')).toBeEnabled();
  await expect(a.page.locator('#cancelBtn')).toBeDisabled();
  await expect(a.page.locator('#elapsed')).toHaveText(/^\d+(\.\d+)? s$/);

  // The peers table: a row for each tab, both with units, adding up to the image.
  const rows = await peerRows(a.page);
  expect(rows.map((r) => r.peer).sort()).toEqual([a.id, b.id].sort());
  expect(rows.find((r) => r.peer === a.id).self).toBe(true);
  expect(rows.find((r) => r.peer === b.id).self).toBe(false);
  for (const row of rows) expect(row.units, `units of ${row.peer}`).toBeGreaterThan(0);
  expect(rows.reduce((n, r) => n + r.units, 0)).toBe(TILES);

  // The legend names both tabs and marks this one.
  await expect(a.page.locator('#legend li')).toHaveCount(2);
  await expect(a.page.locator('#legend')).toContainText('(this tab)');

  // The same path through the test hook: tile owners are both tabs, and the
  // image is the button's, pixel count for pixel count.
  const together = await a.page.evaluate(async ({ tiles, maxIter }) => {
    const { outputs, stats, ms, tileOwners } = await window.computeDemo.render({ tiles, maxIter, redundancy: 1 });
    return {
      lengths: outputs.map((o) => o.length),
      isUint32: outputs.every((o) => o instanceof Uint32Array),
      stats,
      ms,
      tileOwners,
      hash: window.computeDemo.lastImageHash(),
    };
  }, { tiles: TILES, maxIter: MAX_ITER });
  expect(together.lengths).toEqual(new Array(TILES).fill((640 / 8) * (480 / 8)));
  expect(together.isUint32).toBe(true);
  expect(together.tileOwners).toHaveLength(TILES);
  expect(new Set(together.tileOwners)).toEqual(new Set([a.id, b.id]));
  expect(together.stats.done).toBe(TILES);
  expect(together.stats.total).toBe(TILES);
  expect(together.stats.unitsByPeer[a.id]).toBeGreaterThan(0);
  expect(together.stats.unitsByPeer[b.id]).toBeGreaterThan(0);
  expect(together.ms).toBeGreaterThan(0);
  expect(together.hash).toBe(buttonHash);

  // B, a worker that never pressed anything, did real work.
  await expect.poll(() => b.page.evaluate(() => window.node.getStatus().compute.completed)).toBeGreaterThan(0);

  // One tab alone in another room computes every tile itself: same image.
  const solo = await openComputeTab(context, `${room}-solo`);
  expect(await connectedIds(solo.page)).toEqual([]);
  const alone = await solo.page.evaluate(async ({ tiles, maxIter }) => {
    const { tileOwners } = await window.computeDemo.render({ tiles, maxIter, redundancy: 1 });
    return { owners: [...new Set(tileOwners)], hash: window.computeDemo.lastImageHash() };
  }, { tiles: TILES, maxIter: MAX_ITER });
  expect(alone.owners).toEqual([solo.id]);
  await expect(solo.page.locator('#progressText')).toHaveText(`${TILES} / ${TILES} tiles`);
  expect(alone.hash).toBe(buttonHash);

  for (const tab of [a, b, solo]) {
    await expect(tab.page.locator('#error')).toBeHidden();
    expect(tab.problems).toEqual([]);
  }
});

test('cancel stops a render, and bad options show in the error banner', async ({ context }, testInfo) => {
  const { page, problems } = await openComputeTab(context, uniqueRoom(testInfo));

  // A render heavy enough to still be running when Cancel is clicked.
  await page.selectOption('#tilesSelect', '256');
  await page.selectOption('#maxIterSelect', '10000');
  const outcome = page.evaluate(() =>
    window.computeDemo.render().then(
      () => 'finished',
      (err) => err.name,
    ),
  );
  await expect(page.locator('#cancelBtn')).toBeEnabled();
  await page.click('#cancelBtn');
  expect(await outcome).toBe('AbortError');
  await expect(page.locator('#progressText')).toContainText('(cancelled)');
  await expect(page.locator('#renderBtn')).toBeEnabled();
  await expect(page.locator('#error')).toBeHidden();
  expect(await page.evaluate(() => window.computeDemo.lastImageHash())).toBeNull();

  // Invalid options are refused loudly, not ignored.
  const refused = await page.evaluate(() => window.computeDemo.render({ tiles: 7 }).then(() => null, (err) => err.message));
  expect(refused).toContain('tiles must be a square number');
  await expect(page.locator('#error')).toBeVisible();
  await expect(page.locator('#errorText')).toContainText('tiles must be a square number');

  // A good render afterwards clears the banner.
  await page.selectOption('#tilesSelect', '16');
  await page.selectOption('#maxIterSelect', '500');
  await page.click('#renderBtn');
  await expect(page.locator('#progressText')).toHaveText('16 / 16 tiles', { timeout: 30_000 });
  await expect(page.locator('#error')).toBeHidden();
  expect(problems).toEqual([]);
});

test('tinting is a view: switching it off and on redraws, the raw image stays', async ({ context }, testInfo) => {
  const { page, id } = await openComputeTab(context, uniqueRoom(testInfo));
  await page.evaluate(() => window.computeDemo.render({ tiles: 16, maxIter: 500 }));
  const hash = await page.evaluate(() => window.computeDemo.lastImageHash());

  // The centre pixel of the first tile, tinted and not.
  const pixel = () => page.evaluate(() => [...document.getElementById('canvas').getContext('2d').getImageData(80, 60, 1, 1).data]);
  const tinted = await pixel();
  await page.uncheck('#tintToggle');
  await expect.poll(pixel).not.toEqual(tinted);
  await page.check('#tintToggle');
  await expect.poll(pixel).toEqual(tinted);
  // Tinting is a view: the raw counts' hash is untouched.
  expect(await page.evaluate(() => window.computeDemo.lastImageHash())).toBe(hash);

  // Alone in its room, this tab computed every tile.
  await expect(page.locator(`#peerTableBody tr[data-peer="${id}"] td.units`)).toHaveText('16');
  await expect(page.locator('#legend')).toContainText('(this tab)');
});
