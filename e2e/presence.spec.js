// Presence: appears at peers, reaches a tab that joins later, and disappears
// when its tab goes.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, openTab, startNode, uniqueRoom } from './support/nodes.js';

const presenceOf = (page) => page.evaluate(() => window.node.getStateManager().getPresence());

test('presence appears at peers and at a late joiner, and disappears when the tab closes', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { pages, ids } = await openStartedTabs(context, room, 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await b.evaluate(() => {
    window.presenceEvents = [];
    window.node.getStateManager().onPresence((all, change) => window.presenceEvents.push(change));
  });

  await a.evaluate(() => window.node.getStateManager().setPresence({ cursor: [3, 4], name: 'ada' }));
  await expect.poll(() => presenceOf(b)).toEqual({ [ids[0]]: { cursor: [3, 4], name: 'ada' } });
  expect(await presenceOf(a)).toEqual({ [ids[0]]: { cursor: [3, 4], name: 'ada' } }); // its own, too
  expect(await b.evaluate(() => window.presenceEvents)).toEqual([{ peerId: ids[0], state: { cursor: [3, 4], name: 'ada' } }]);

  const late = await openTab(context, room);
  await startNode(late);
  await expect.poll(() => presenceOf(late)).toEqual({ [ids[0]]: { cursor: [3, 4], name: 'ada' } });

  await a.close();
  await expect.poll(() => presenceOf(b), { timeout: 6_000 }).toEqual({});
  await expect.poll(() => presenceOf(late), { timeout: 6_000 }).toEqual({});
});
