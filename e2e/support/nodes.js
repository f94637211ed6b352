// Helpers that open demo-page tabs and drive their nodes through the public API.
import { expect } from '@playwright/test';

let roomCounter = 0;

// A room name no earlier test used, so tabs from different tests never meet.
export function uniqueRoom(testInfo) {
  const slug = testInfo.title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40);
  return `e2e-${slug}-${process.pid}-${Date.now()}-${roomCounter++}`;
}

export async function openTab(context, room) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await page.goto(`/test-p2p.html?room=${encodeURIComponent(room)}`);
  await page.waitForFunction(() => window.node && window.NodeKernel);
  return page;
}

export async function startNode(page) {
  return page.evaluate(async () => {
    await window.node.initialize();
    await window.node.start();
    return window.node.nodeId;
  });
}

export async function openStartedTabs(context, room, count) {
  const pages = [];
  for (let i = 0; i < count; i++) pages.push(await openTab(context, room));
  const ids = await Promise.all(pages.map(startNode));
  return { pages, ids };
}

export function connectedPeerIds(page) {
  return page.evaluate(() =>
    window.node
      .getNetworkManager()
      .getConnectedPeers()
      .map((p) => p.peerId)
      .sort(),
  );
}

export async function expectConnectedTo(page, ids, timeout = 10_000) {
  await expect.poll(() => connectedPeerIds(page), { timeout }).toEqual([...ids].sort());
}

export function read(page, key) {
  return page.evaluate((k) => window.node.getStateManager().read(k), key);
}

export function write(page, key, value) {
  return page.evaluate(([k, v]) => window.node.getStateManager().write(k, v), [key, value]);
}

export function status(page) {
  return page.evaluate(() => window.node.getStatus());
}

// Replaces the demo page's node with one built from `config` (merged over
// {roomId: room}); `peerServer: 'from-page'` uses the page's /peer-config.json.
export async function startConfiguredNode(page, config) {
  return page.evaluate(async (cfg) => {
    if (cfg.peerServer === 'from-page') cfg.peerServer = await (await fetch('/peer-config.json')).json();
    await window.node?.stop();
    window.node = new window.NodeKernel(cfg);
    await window.node.initialize();
    await window.node.start();
    return window.node.nodeId;
  }, config);
}
