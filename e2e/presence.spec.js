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

// Presences arrive parsed once and frozen; one of more than 64 KiB is refused
// where it is set, and everyone keeps the presence it had.
test('presence reaches peers frozen, and one over 64 KiB is refused whole', async ({ context }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const { pages, ids } = await openStartedTabs(context, room, 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await a.evaluate(() => window.node.getStateManager().setPresence({ cursor: { x: 1, y: 2 }, name: 'ada' }));
  await expect.poll(() => presenceOf(b)).toEqual({ [ids[0]]: { cursor: { x: 1, y: 2 }, name: 'ada' } });
  const atB = await b.evaluate((peer) => {
    'use strict'; // so that writing to a frozen object throws
    const p = window.node.getStateManager().getPresence()[peer];
    let mutated = 'no error';
    try {
      p.cursor.x = 99;
    } catch (e) {
      mutated = e.name;
    }
    return { frozen: Object.isFrozen(p) && Object.isFrozen(p.cursor), mutated, after: window.node.getStateManager().getPresence()[peer] };
  }, ids[0]);
  expect(atB).toEqual({ frozen: true, mutated: 'TypeError', after: { cursor: { x: 1, y: 2 }, name: 'ada' } });

  const refused = await a.evaluate(() => {
    try {
      window.node.getStateManager().setPresence({ blob: 'x'.repeat(70_000) });
      return 'no error';
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  });
  expect(refused).toMatch(/^RangeError: setPresence\(presence\): presence is 70011 bytes of JSON, over the limit of 64 KiB/);
  expect(await presenceOf(a)).toEqual({ [ids[0]]: { cursor: { x: 1, y: 2 }, name: 'ada' } });
  // A later change still flows, so the refused one never reached the peer.
  await a.evaluate(() => window.node.getStateManager().setPresence({ cursor: { x: 3, y: 4 }, name: 'ada' }));
  await expect.poll(() => presenceOf(b)).toEqual({ [ids[0]]: { cursor: { x: 3, y: 4 }, name: 'ada' } });
});
