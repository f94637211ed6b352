// (f) A peer that joins late receives the state written before it joined.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, openTab, read, startNode, uniqueRoom, write } from './support/nodes.js';

test('a late joiner receives state written before it joined', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { pages, ids } = await openStartedTabs(context, room, 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);

  await write(a, 'early-a', 'written by A');
  await write(b, 'early-b', { list: [1, 2] });
  await a.evaluate(() => {
    const state = window.node.getStateManager();
    state.batchWrite({ 'batch-1': 1, 'batch-2': 2 });
    state.write('deleted', true);
    state.delete('deleted');
  });
  await expect.poll(() => read(b, 'batch-2')).toBe(2);

  const late = await openTab(context, room);
  const lateId = await startNode(late);
  await expectConnectedTo(late, ids);
  await expectConnectedTo(a, [ids[1], lateId]);

  const snapshot = await late.evaluate(() => window.node.getStateManager().snapshot());
  await expect
    .poll(() => late.evaluate(() => window.node.getStateManager().snapshot().data))
    .toEqual({ 'early-a': 'written by A', 'early-b': { list: [1, 2] }, 'batch-1': 1, 'batch-2': 2 });
  expect(snapshot).toHaveProperty('version');
  expect(await read(late, 'deleted')).toBeUndefined();
});
