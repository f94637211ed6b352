// Namespaced keys replicate like any other, and a peer observes its namespace.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, uniqueRoom } from './support/nodes.js';

test('a namespaced write reaches a peer that observes the namespace, apart from plain keys', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await b.evaluate(() => {
    window.observed = [];
    window.node.getStateManager().observeNamespace('players', (value, key) => window.observed.push([key, value]));
  });
  await a.evaluate(async () => {
    const state = window.node.getStateManager();
    await state.writeScoped('players', 'ada', { x: 1 });
    await state.write('ada', 'plain');
    await state.deleteScoped('players', 'ada');
    await state.writeScoped('players', 'bob', { x: 2 });
  });
  await expect.poll(() => b.evaluate(() => window.node.getStateManager().listNamespaceKeys('players'))).toEqual(['bob']);
  expect(await b.evaluate(() => window.node.getStateManager().read('ada'))).toBe('plain');
  expect(await b.evaluate(() => window.observed)).toEqual([
    ['ada', { x: 1 }],
    ['ada', undefined],
    ['bob', { x: 2 }],
  ]);
});
