// (d) Four tabs form a full mesh and converge on concurrent writes.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, uniqueRoom } from './support/nodes.js';

test('four tabs form a full mesh and converge on concurrent writes', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 4);
  await Promise.all(pages.map((page, i) => expectConnectedTo(page, ids.filter((_, j) => j !== i), 15_000)));

  // Every tab writes the same key and one key of its own, as close to
  // simultaneously as four pages allow.
  await Promise.all(
    pages.map((page, i) =>
      page.evaluate((n) => {
        const state = window.node.getStateManager();
        state.write('contested', { writer: n });
        state.write(`own-${n}`, n * 10);
      }, i),
    ),
  );

  const view = (page) =>
    page.evaluate(() => {
      const state = window.node.getStateManager();
      return { contested: state.read('contested'), own: [0, 1, 2, 3].map((n) => state.read(`own-${n}`)) };
    });
  await expect.poll(() => view(pages[0])).toMatchObject({ own: [0, 10, 20, 30] });
  const first = await view(pages[0]);
  expect([0, 1, 2, 3]).toContain(first.contested.writer);
  for (const page of pages) await expect.poll(() => view(page)).toEqual(first);
});
