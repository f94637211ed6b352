// State in IndexedDB: it survives a reload and a crash of the tab, offline
// writes reach peers later, clearPersistence() empties the store, and where
// IndexedDB is unavailable the node says so and works in memory.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openTab, read, startNode, status, uniqueRoom } from './support/nodes.js';

const initialize = (page) => page.evaluate(() => window.node.initialize().then(() => window.node.nodeId));

test('a reload restores the state before initialize() resolves', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const page = await openTab(context, room);
  await initialize(page);
  await page.evaluate(async () => {
    const state = window.node.getStateManager();
    await state.batchWrite({ score: 42, player: { name: 'ada', items: [1, 2] } });
    await state.write('gone', true);
    await state.delete('gone');
  });
  expect((await status(page)).state.hasPersistence).toBe(true);

  await page.reload();
  await page.waitForFunction(() => window.node);
  const restored = await page.evaluate(async () => {
    await window.node.initialize(); // not started: no peer can have supplied this
    return window.node.getStateManager().snapshot().data;
  });
  expect(restored).toEqual({ score: 42, player: { name: 'ada', items: [1, 2] } });
});

test('a write whose promise resolved survives a crash of the tab', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const page = await openTab(context, room);
  await initialize(page);
  await page.evaluate(() => window.node.getStateManager().write('durable', { at: 'crash' }));
  const crashed = page.waitForEvent('crash');
  await page.goto('chrome://crash').catch(() => {}); // the tab's renderer dies
  await crashed;

  const again = await openTab(context, room);
  await initialize(again);
  expect(await read(again, 'durable')).toEqual({ at: 'crash' });
});

test('writes made while alone reach the peers when they come', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const alone = await openTab(context, room);
  await initialize(alone);
  await alone.evaluate(() => window.node.getStateManager().batchWrite({ offline1: 1, offline2: 'two' }));
  await alone.reload(); // a new session restores from storage, still alone
  await alone.waitForFunction(() => window.node);

  const peer = await openTab(context, room);
  const peerId = await startNode(peer);
  await startNode(alone);
  await expectConnectedTo(alone, [peerId]);
  await expect.poll(() => read(peer, 'offline2')).toBe('two');
  expect(await read(peer, 'offline1')).toBe(1);
});

test('offline writes on both sides sync after rejoining', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const [a, b] = [await openTab(context, room), await openTab(context, room)];
  const [idA, idB] = [await startNode(a), await startNode(b)];
  await expectConnectedTo(a, [idB]);
  await a.evaluate(() => window.node.stop());
  await a.evaluate(() => window.node.getStateManager().write('from-a', 1));
  await b.evaluate(() => window.node.getStateManager().write('from-b', 2));
  await a.evaluate(() => window.node.start());
  await expectConnectedTo(b, [idA]);
  await expect.poll(() => read(b, 'from-a')).toBe(1);
  await expect.poll(() => read(a, 'from-b')).toBe(2);
});

test('clearPersistence() empties the store', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const page = await openTab(context, room);
  await initialize(page);
  await page.evaluate(async () => {
    await window.node.getStateManager().write('k', 1);
    await window.node.clearPersistence();
  });
  expect(await read(page, 'k')).toBe(1); // memory is untouched
  await page.reload();
  await page.waitForFunction(() => window.node);
  await initialize(page);
  expect(await page.evaluate(() => window.node.getStateManager().keys())).toEqual([]);
});

test('where IndexedDB is unavailable the status says so and the node works in memory', async ({ context }, testInfo) => {
  const page = await openTab(context, uniqueRoom(testInfo));
  // A sandboxed frame has an opaque origin, and Chromium refuses it IndexedDB.
  const frameRoom = uniqueRoom(testInfo);
  const frameUrl = new URL(`/test-p2p.html?room=${frameRoom}`, page.url()).href;
  await page.evaluate((src) => {
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.src = src;
    document.body.append(frame);
  }, frameUrl);
  // An opaque-origin document replaces the frame's first one, so find it by URL.
  const framed = () => page.frames().find((f) => f.url().includes(frameRoom));
  await expect.poll(async () => (await framed()?.evaluate(() => typeof window.node).catch(() => null)) ?? null).toBe('object');
  const frame = framed();
  const result = await frame.evaluate(async () => {
    await window.node.initialize();
    const state = window.node.getStateManager();
    await state.write('memory', 'only');
    return { status: window.node.getStatus().state, value: state.read('memory') };
  });
  expect(result.status.hasPersistence).toBe(false);
  expect(result.status.persistenceError).toMatch(/IndexedDB/);
  expect(result.value).toBe('only');
});
