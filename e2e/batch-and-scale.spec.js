// A batch arrives whole at every peer, and large states sync: a 1 MB value
// and 100,000 keys reach a tab that joins late.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, openTab, read, startNode, uniqueRoom } from './support/nodes.js';

test('no subscriber on a peer ever sees half of a batch', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [writer, watcher] = pages;
  await expectConnectedTo(writer, [ids[1]]);
  await watcher.evaluate(() => {
    const state = window.node.getStateManager();
    window.torn = [];
    window.seen = 0;
    state.subscribe('*', (value, key) => {
      if (!key.startsWith('part-')) return;
      window.seen++;
      const parts = ['part-a', 'part-b', 'part-c', 'part-d'].map((k) => state.read(k));
      if (new Set(parts).size !== 1) window.torn.push(parts);
    });
  });
  await writer.evaluate(async () => {
    const state = window.node.getStateManager();
    for (let round = 1; round <= 200; round++) {
      state.batchWrite({ 'part-a': round, 'part-b': round, 'part-c': round, 'part-d': round });
      if (round % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // let some batches travel alone
    }
  });
  await expect.poll(() => read(watcher, 'part-d')).toBe(200);
  expect(await watcher.evaluate(() => window.torn)).toEqual([]);
  expect(await watcher.evaluate(() => window.seen)).toBeGreaterThan(0);
});

test('a late joiner catches up on 100,000 keys and a 1 MB value', async ({ context }, testInfo) => {
  test.setTimeout(120_000);
  const room = uniqueRoom(testInfo);
  const [source] = [await openTab(context, room)];
  const sourceId = await startNode(source);
  const expected = await source.evaluate(async () => {
    const state = window.node.getStateManager();
    const big = 'x'.repeat(1024 * 1024 - 20) + '-end-of-1MB';
    let last;
    for (let i = 0; i < 100_000; i++) last = state.write(`key-${i}`, i);
    await last;
    await state.write('big', { text: big });
    return { keys: state.keys().length, bigLength: big.length };
  });
  expect(expected.keys).toBe(100_001); // and the big one

  const late = await openTab(context, room);
  await startNode(late);
  await expectConnectedTo(late, [sourceId]);
  await expect.poll(() => late.evaluate(() => window.node.getStateManager().keys().length), { timeout: 60_000 }).toBe(100_001);
  const check = await late.evaluate(() => {
    const state = window.node.getStateManager();
    const big = state.read('big').text;
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) if (state.read(`key-${i}`) !== i) wrong++;
    return { bigLength: big.length, bigEnd: big.endsWith('-end-of-1MB'), wrong };
  });
  expect(check).toEqual({ bigLength: expected.bigLength, bigEnd: true, wrong: 0 });
  expect(await read(late, 'key-99999')).toBe(99_999);
});
