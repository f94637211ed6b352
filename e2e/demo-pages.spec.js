// The demo pages as a person sees them, measured at 1280 × 800 and at 390 px
// wide: lifecycle buttons that follow the node, the replicated state in the
// first screen, a peer table whose every column shows, a live peer graph,
// and on compute.html a helper tab that shows the render it helps with.
// Each test saves screenshots beside its results (attached to the report).
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openTab, startNode, uniqueRoom } from './support/nodes.js';

const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function screenshot(page, testInfo, name, options = {}) {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, ...options });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

async function expectButtons(page, { init, start, stop }) {
  for (const [id, enabled] of [['#initBtn', init], ['#startBtn', start], ['#stopBtn', stop]]) {
    if (enabled) await expect(page.locator(id), `${id} enabled`).toBeEnabled();
    else await expect(page.locator(id), `${id} disabled`).toBeDisabled();
  }
}

const box = (page, selector) => page.locator(selector).evaluate((el) => {
  const r = el.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
});

const graphCounts = (page) => page.locator('#peerGraph').evaluate((svg) => ({
  nodes: svg.querySelectorAll('.graph-node').length,
  connectedNodes: svg.querySelectorAll('.graph-node[data-state="connected"]').length,
  links: svg.querySelectorAll('.graph-edge[data-state="connected"]').length,
  linkRoutes: [...svg.querySelectorAll('.graph-edge[data-state="connected"]')].map((e) => e.dataset.route),
  health: [...svg.querySelectorAll('.graph-node[data-state="connected"]')].map((n) => n.dataset.health),
  said: { nodes: Number(svg.dataset.nodes), links: Number(svg.dataset.links) },
}));

const pageOverflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test.describe('test-p2p.html at 1280 × 800', () => {
  test.use({ viewport: WIDE });

  test('buttons follow the node, the state is in the first screen, every peer column shows, the graph tracks peers', async ({ context }, testInfo) => {
    test.setTimeout(90_000);
    const room = uniqueRoom(testInfo);
    const page = await context.newPage();
    const errors = watchErrors(page);

    // Until the node exists (it waits for /peer-config.json) nothing can be clicked.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/peer-config.json', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`/test-p2p.html?room=${encodeURIComponent(room)}`);
    await expect(page.locator('#status')).toHaveText('Not initialized');
    await expectButtons(page, { init: false, start: false, stop: false });
    release();
    await page.waitForFunction(() => window.node);
    await expectButtons(page, { init: true, start: false, stop: false });

    await page.click('#initBtn');
    await expect(page.locator('#log')).toContainText('Node initialized successfully!');
    await expect(page.locator('#status')).toHaveText('Initialized');
    await expectButtons(page, { init: false, start: true, stop: false });
    expect(await graphCounts(page)).toMatchObject({ nodes: 1, links: 0 });

    // A failed start leaves Start enabled, to try again.
    await page.evaluate(() => {
      window.node.start = async () => {
        throw new Error('simulated start failure');
      };
    });
    await page.click('#startBtn');
    await expect(page.locator('#status')).toContainText('Error: simulated start failure');
    await expectButtons(page, { init: false, start: true, stop: false });
    await page.evaluate(() => delete window.node.start);

    await page.click('#startBtn');
    await expect(page.locator('#status')).toHaveText('Running');
    await expectButtons(page, { init: false, start: false, stop: true });

    // Two more tabs join: the graph shows three nodes and two open links,
    // over BroadcastChannel (one browser context), all healthy.
    const b = await openTab(context, room);
    const c = await openTab(context, room);
    const [idB, idC] = [await startNode(b), await startNode(c)];
    await expectConnectedTo(page, [idB, idC]);
    await expect.poll(() => graphCounts(page)).toMatchObject({
      nodes: 3, connectedNodes: 2, links: 2, linkRoutes: ['broadcast-channel', 'broadcast-channel'], said: { nodes: 3, links: 2 },
    });
    await expect.poll(async () => (await graphCounts(page)).health).toEqual(['good', 'good']);
    for (const id of [idB, idC]) await expect(page.locator(`#peerGraph .graph-node[data-peer="${id}"]`)).toHaveCount(1);

    // The state panel, holding keys and a snapshot, is wholly in the first screen.
    for (let i = 0; i < 6; i++) {
      await page.fill('#stateKey', `key-${i}`);
      await page.fill('#stateValue', JSON.stringify({ i, text: 'a value long enough to fill its cell and then some more'.repeat(2) }));
      await page.click('#writeBtn');
    }
    await expect(page.locator('#stateCount')).toHaveText('6 keys');
    await page.click('#snapshotBtn');
    await expect(page.locator('#stateSnapshot')).toContainText('"key-5"');
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    const state = await box(page, '#stateCard');
    expect(state.top).toBeGreaterThanOrEqual(0);
    expect(state.bottom).toBeLessThanOrEqual(WIDE.height);
    const controls = await box(page, '#nodeCard');
    expect(controls.bottom).toBeLessThanOrEqual(WIDE.height);

    // Every column of the peer table shows: nothing scrolls sideways.
    await expect(page.locator('#peerTableBody tr[data-peer]')).toHaveCount(2);
    const table = await page.locator('#peerTableWrap').evaluate((wrap) => {
      const edge = wrap.getBoundingClientRect().right;
      return {
        scrollWidth: wrap.scrollWidth,
        clientWidth: wrap.clientWidth,
        columns: wrap.querySelectorAll('thead th').length,
        hidden: [...wrap.querySelectorAll('thead th')].filter((th) => th.getBoundingClientRect().right > edge + 0.5).map((th) => th.textContent),
      };
    });
    expect(table.columns).toBe(10);
    expect(table.hidden).toEqual([]);
    expect(table.scrollWidth).toBeLessThanOrEqual(table.clientWidth);
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, testInfo, 'p2p-1280-first-screen');
    await screenshot(page, testInfo, 'p2p-1280-full', { fullPage: true });

    // A peer that goes quiet (its main thread stalled for 3 s, short of the
    // 5 s after which it would be dropped) turns 'quiet', then, once heard
    // again, healthy (the ping it answered late may show 'slow' between).
    await page.evaluate((id) => {
      window.__health = [];
      new MutationObserver(() => {
        const health = document.querySelector(`#peerGraph .graph-node[data-peer="${id}"]`)?.dataset.health;
        if (health !== window.__health.at(-1)) window.__health.push(health);
      }).observe(document.getElementById('peerGraph'), { attributes: true, subtree: true, attributeFilter: ['data-health'] });
    }, idB);
    await b.evaluate(() => {
      const end = performance.now() + 3000;
      while (performance.now() < end) { /* stalled */ }
    });
    await expect.poll(() => page.evaluate(() => window.__health.at(-1)), { timeout: 10_000 }).toBe('good');
    expect(await page.evaluate(() => window.__health)).toContain('quiet');
    expect(await graphCounts(page)).toMatchObject({ links: 2 });

    // A peer that leaves is shown as gone, then taken off the graph.
    await c.close();
    await expect(page.locator(`#peerGraph .graph-node[data-peer="${idC}"][data-state="left"]`)).toHaveCount(1, { timeout: 10_000 });
    expect(await graphCounts(page)).toMatchObject({ links: 1, said: { links: 1 } });
    await expect.poll(() => graphCounts(page), { timeout: 15_000 }).toMatchObject({ nodes: 2, links: 1, said: { nodes: 2, links: 1 } });

    // Stopped without the buttons (the 'stopped' event), then through them.
    await page.evaluate(() => window.node.stop());
    await expect(page.locator('#status')).toHaveText('Stopped');
    await expectButtons(page, { init: false, start: true, stop: false });
    await page.click('#startBtn');
    await expect(page.locator('#status')).toHaveText('Running');
    await expectConnectedTo(page, [idB], 15_000);
    await expect.poll(() => graphCounts(page)).toMatchObject({ links: 1 });
    await page.click('#stopBtn');
    await expect(page.locator('#log')).toContainText('Node stopped');
    await expectButtons(page, { init: false, start: true, stop: false });
    await expect.poll(() => graphCounts(page), { timeout: 15_000 }).toMatchObject({ nodes: 1, links: 0 });
    expect(errors).toEqual([]);
  });
});

test.describe('test-p2p.html at 390 px', () => {
  test.use({ viewport: PHONE });

  test('one column with the state right after the node controls, peers as cards, nothing wider than the screen', async ({ context }, testInfo) => {
    const room = uniqueRoom(testInfo);
    const page = await openTab(context, room);
    const errors = watchErrors(page);
    const other = await openTab(context, room);
    const [id, otherId] = [await startNode(page), await startNode(other)];
    await expectConnectedTo(page, [otherId]);
    await page.fill('#stateKey', 'greeting');
    await page.fill('#stateValue', JSON.stringify({ text: 'hello from a phone-sized tab, with a value wider than the screen itself' }));
    await page.click('#writeBtn');
    await expect(page.locator('#stateCount')).toHaveText('1 key');
    await expect(page.locator('#peerTableBody tr[data-peer]')).toHaveCount(1);
    await expect.poll(() => graphCounts(page)).toMatchObject({ nodes: 2, links: 1 });

    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    // Cards stack: node controls, then the state, and the metrics last.
    const [node, state, peers, metrics] = await Promise.all(['#nodeCard', '#stateCard', '#peersCard', '#metricsCard'].map((s) => box(page, s)));
    expect(state.top).toBeGreaterThan(node.bottom);
    expect(state.top - node.bottom).toBeLessThan(40);
    expect(peers.top).toBeGreaterThan(state.bottom);
    expect(metrics.top).toBeGreaterThan(peers.bottom);
    for (const card of [node, state, peers, metrics]) expect(card.right).toBeLessThanOrEqual(PHONE.width);

    // The peer table is a list of cards, each value labelled, inside the screen.
    const row = page.locator(`#peerTableBody tr[data-peer="${otherId}"]`);
    expect(await row.evaluate((tr) => getComputedStyle(tr).display)).toBe('grid');
    expect(await row.locator('td').evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content))).toEqual(
      ['"Peer ID"', '"State"', '"Signaling"', '"Password"', '"RTT"', '"In"', '"Out"', '"Pos/s"', '"Rejected"', '"Heard"'],
    );
    const wrap = await page.locator('#peerTableWrap').evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
    expect(wrap.scrollWidth).toBeLessThanOrEqual(wrap.clientWidth);
    expect((await box(page, `#peerTableBody tr[data-peer="${otherId}"] td.id`)).right).toBeLessThanOrEqual(PHONE.width);
    await expect(page.locator('#nodeSummary')).toContainText(id);

    await screenshot(page, testInfo, 'p2p-390-first-screen');
    await screenshot(page, testInfo, 'p2p-390-full', { fullPage: true });
    expect(errors).toEqual([]);
  });
});

// The helper records, on every change of its progress or workers table,
// what it shows: tiles done, of how many, and how many it computed itself.
function recordHelperView(page, selfId) {
  return page.evaluate((id) => {
    window.__seen = [];
    const sample = () => {
      const row = document.querySelector(`#peerTableBody tr[data-peer="${id}"]`);
      window.__seen.push({
        done: document.getElementById('progress').value,
        total: document.getElementById('progress').max,
        selfTiles: row ? Number(row.dataset.units) : 0,
        summary: document.getElementById('summary').textContent,
      });
    };
    const observer = new MutationObserver(sample);
    for (const el of [document.getElementById('progressText'), document.getElementById('peerTableBody')]) {
      observer.observe(el, { childList: true, characterData: true, subtree: true });
    }
  }, selfId);
}

// A digest of the canvas's pixels: equal digests, equal pictures.
const canvasDigest = (page) => page.evaluate(async () => {
  const canvas = document.getElementById('canvas');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const digest = await crypto.subtle.digest('SHA-256', pixels);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
});

async function openComputeTab(context, room) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`/compute.html?room=${encodeURIComponent(room)}`);
  await page.waitForFunction(() => window.computeDemo && window.node);
  await page.evaluate(() => window.computeDemo.ready());
  return { page, errors, id: await page.evaluate(() => window.node.nodeId) };
}

test.describe('compute.html', () => {
  test.use({ viewport: WIDE });

  test('a helper tab shows the render it helps with: its own tiles, the progress and the picture', async ({ context }, testInfo) => {
    test.setTimeout(120_000);
    const room = uniqueRoom(testInfo);
    const owner = await openComputeTab(context, room);
    const helper = await openComputeTab(context, room);
    await expect.poll(() => owner.page.evaluate((id) => window.node.getComputeManager().getCapabilities().peers[id]?.workers ?? 0, helper.id), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => graphCounts(helper.page)).toMatchObject({ nodes: 2, links: 1, said: { nodes: 2, links: 1 } });

    await recordHelperView(helper.page, helper.id);
    const TILES = 256;
    const rendered = owner.page.evaluate((tiles) => window.computeDemo.render({ tiles, maxIter: 10000 }).then((r) => ({ byPeer: r.stats.unitsByPeer })), TILES);

    // While the owner renders: its Cancel is live; the helper says whom it helps
    // and cannot cancel another tab's render.
    await expect(owner.page.locator('#cancelBtn')).toBeEnabled();
    await expect(owner.page.locator('#renderBtn')).toBeDisabled();
    await expect(helper.page.locator('#progress')).not.toHaveJSProperty('value', 0, { timeout: 15_000 });
    await expect(helper.page.locator('#cancelBtn')).toBeDisabled();
    await screenshot(helper.page, testInfo, 'compute-helper-1280-during');

    const { byPeer } = await rendered;
    expect(byPeer[helper.id], 'tiles the helper computed').toBeGreaterThan(0);
    const seen = await helper.page.evaluate(() => window.__seen);
    const during = seen.filter((s) => s.total === TILES && s.done > 0 && s.done < TILES);
    expect(during.length, 'progress shown mid-render').toBeGreaterThan(0);
    expect(during.some((s) => s.selfTiles > 0), 'own tiles shown mid-render').toBe(true);
    expect(during.some((s) => /^Helping with .*'s render: this tab computed [1-9]\d* tiles? so far\.$/.test(s.summary))).toBe(true);

    // At the end the helper shows the whole picture, exactly as the owner
    // drew it, with the owner's count of its tiles.
    await expect(helper.page.locator('#progressText')).toHaveText(`${TILES} / ${TILES} tiles`);
    await expect(helper.page.locator(`#peerTableBody tr[data-peer="${helper.id}"]`)).toHaveAttribute('data-units', String(byPeer[helper.id]));
    await expect(helper.page.locator(`#peerTableBody tr[data-peer="${owner.id}"]`)).toHaveAttribute('data-units', String(byPeer[owner.id]));
    await expect(helper.page.locator('#summary')).toContainText(`this tab computed ${byPeer[helper.id]} tile`);
    await expect(helper.page.locator('#legend')).toContainText('(this tab)');
    expect(await canvasDigest(helper.page)).toBe(await canvasDigest(owner.page));
    await expect(helper.page.locator('#status')).toHaveText('Running');
    await screenshot(helper.page, testInfo, 'compute-helper-1280-done');
    await screenshot(owner.page, testInfo, 'compute-owner-1280-done');

    // At 390 px neither page is wider than the screen.
    for (const [name, tab] of [['helper', helper], ['owner', owner]]) {
      await tab.page.setViewportSize(PHONE);
      await expect.poll(() => pageOverflow(tab.page)).toBeLessThanOrEqual(0);
      await screenshot(tab.page, testInfo, `compute-${name}-390`, { fullPage: true });
    }
    expect(owner.errors).toEqual([]);
    expect(helper.errors).toEqual([]);
  });
});
