// Large messages: a 16 MB message arrives intact (split into fragments, sent
// as the channel drains), and a send queue that is full refuses more with a
// clear error instead of growing without bound.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, uniqueRoom } from './support/nodes.js';

test('a 16 MB message arrives intact', async ({ context }, testInfo) => {
  test.setTimeout(90_000);
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await b.evaluate(() => {
    window.got = null;
    window.node.getNetworkManager().addMessageHandler((peerId, message) => {
      let sum = 0;
      for (let i = 0; i < message.body.length; i += 4096) sum = (sum * 31 + message.body.charCodeAt(i)) >>> 0;
      window.got = { peerId, length: message.body.length, sum, tail: message.body.slice(-12) };
    });
  });
  const sent = await a.evaluate((peer) => {
    const chunk = Array.from({ length: 4096 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
    const body = chunk.repeat(4096) + '-end-of-16MB'; // 16 MiB and a marker
    let sum = 0;
    for (let i = 0; i < body.length; i += 4096) sum = (sum * 31 + body.charCodeAt(i)) >>> 0;
    window.node.getNetworkManager().sendToPeer(peer, { body });
    return { length: body.length, sum, queued: window.node.getNetworkManager().queuedBytes(peer) };
  }, ids[1]);
  expect(sent.queued).toBeGreaterThan(0); // most of it waited for the channel to drain
  await expect.poll(() => b.evaluate(() => window.got), { timeout: 60_000 }).toEqual({
    peerId: ids[0],
    length: sent.length,
    sum: sent.sum,
    tail: '-end-of-16MB',
  });
  expect(await a.evaluate((peer) => window.node.getNetworkManager().queuedBytes(peer), ids[1])).toBe(0);
});

test('a full send queue refuses more with a clear error and loses nothing queued', async ({ context }, testInfo) => {
  test.setTimeout(90_000);
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await b.evaluate(() => {
    window.received = [];
    window.node.getNetworkManager().addMessageHandler((peerId, message) => window.received.push(message.n));
  });
  const outcome = await a.evaluate((peer) => {
    const net = window.node.getNetworkManager();
    const body = 'x'.repeat(20 * 1024 * 1024);
    const sent = [];
    try {
      for (let n = 0; n < 10; n++) {
        net.sendToPeer(peer, { n, body });
        sent.push(n);
      }
      return { sent, error: null };
    } catch (error) {
      return { sent, error: error.message };
    }
  }, ids[1]);
  expect(outcome.error).toMatch(/sendToPeer\(peerId, message, options\): the send queue to .* is full/);
  expect(outcome.sent.length).toBeGreaterThan(0);
  expect(outcome.sent.length).toBeLessThan(10);
  await expect.poll(() => b.evaluate(() => window.received), { timeout: 60_000 }).toEqual(outcome.sent);
});
