// The keeper (`peercompute keep`, a Node.js process with LevelDB) holds a
// room for Chromium tabs: when every tab has left, a new tab without storage
// gets every key from it; a write it reported stored survives SIGKILL and a
// restart. The unmodified PeerJS server carries the signaling.
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keeperArgs, startCli } from '../tests/js/support/cli-processes.mjs';
import { openTab, startConfiguredNode, uniqueRoom } from './support/nodes.js';
import { SIGNAL_PORT } from './support/server.js';

let dataDir;
const keepers = [];

test.beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'peercompute-keeper-e2e-'));
});

test.afterEach(async () => {
  for (const keeper of keepers.splice(0)) await keeper.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

// `peercompute keep --json` in a process of its own.
function keep(room) {
  const keeper = startCli(keeperArgs({ port: SIGNAL_PORT, room, dataDir, extra: ['--workers', '1'] }));
  keepers.push(keeper);
  return keeper;
}

// A tab with no storage of its own, in `room`, connected to the keeper.
async function tab(context, room, keeperId) {
  const page = await openTab(context, room);
  await startConfiguredNode(page, { roomId: room, enablePersistence: false, peerServer: 'from-page' });
  await expect
    .poll(() => page.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId)), { timeout: 20_000 })
    .toContain(keeperId);
  return page;
}

test('the keeper outlives every tab: after all have closed, a new tab without storage receives every key', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const keeper = keep(room);
  const { nodeId } = await keeper.event('ready');
  const first = await browser.newContext();
  const second = await browser.newContext();
  const a = await tab(first, room, nodeId);
  const b = await tab(second, room, nodeId);
  await a.evaluate(() => {
    const state = window.node.getStateManager();
    for (let i = 0; i < 50; i++) state.write(`a/${i}`, { i, by: 'a' });
  });
  await b.evaluate(() => window.node.getStateManager().write('b/only', { by: 'b', list: [1, 2, 3] }));
  await keeper.event('stored', (e) => e.keys === 51);
  await first.close();
  await second.close();

  const late = await browser.newContext();
  try {
    const page = await tab(late, room, nodeId);
    await expect.poll(() => page.evaluate(() => window.node.getStateManager().getStats().keyCount)).toBe(51);
    expect(await page.evaluate(() => window.node.getStateManager().read('a/49'))).toEqual({ i: 49, by: 'a' });
    expect(await page.evaluate(() => window.node.getStateManager().read('b/only'))).toEqual({ by: 'b', list: [1, 2, 3] });
  } finally {
    await late.close();
  }
});

test('a write the keeper reported stored survives SIGKILL: restarted on its data dir, it gives the write to a new tab', async ({ browser }, testInfo) => {
  const room = uniqueRoom(testInfo);
  const keeper = keep(room);
  const { nodeId } = await keeper.event('ready');
  const writer = await browser.newContext();
  const page = await tab(writer, room, nodeId);
  await page.evaluate(() => window.node.getStateManager().write('precious', { kept: true, at: 42 }));
  await keeper.event('stored', (e) => e.keys === 1);
  expect((await keeper.stop('SIGKILL')).signal).toBe('SIGKILL');
  keepers.splice(keepers.indexOf(keeper), 1);
  await writer.close(); // nobody but the stored log has the write now

  const restarted = keep(room);
  const ready = await restarted.event('ready');
  expect(ready.keys, 'the keeper restored the write from disk').toBe(1);
  const reader = await browser.newContext();
  try {
    const fresh = await tab(reader, room, ready.nodeId);
    await expect.poll(() => fresh.evaluate(() => window.node.getStateManager().read('precious'))).toEqual({ kept: true, at: 42 });
  } finally {
    await reader.close();
  }
});
