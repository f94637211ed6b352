// (g) Malformed bytes sent into a node's data channel are counted and ignored.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, read, status, uniqueRoom, write } from './support/nodes.js';

test('malformed bytes are counted and ignored, and the node keeps working', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await write(a, 'before', 'intact');
  await expect.poll(() => read(b, 'before')).toBe('intact');
  const keysBefore = (await status(b)).state.keyCount;

  const garbage = await a.evaluate((peer) => {
    const net = window.node.getNetworkManager();
    const samples = [
      [],
      [0xff],
      [0xc5, 0x01],
      [0xc5, 0x01, 0x04, 0x7f, 0x00], // an Update whose declared length overruns the bytes
      [0xc5, 0x09, 0x04, 0x00], // unsupported protocol version
      [0xc5, 0x01, 0x63, 0x00], // unknown frame type
      Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff),
      Array.from(new TextEncoder().encode('{"json":"is not a frame"}')),
    ];
    for (const sample of samples) net.sendRaw(peer, new Uint8Array(sample));
    return samples.length;
  }, ids[1]);

  await expect.poll(async () => (await status(b)).network.rejectedFrames).toBe(garbage);
  const peerOnB = await b.evaluate(() => window.node.getNetworkManager().getConnectedPeers()[0]);
  expect(peerOnB.rejected).toBe(garbage);
  expect((await status(b)).state.keyCount).toBe(keysBefore);
  expect(await read(b, 'before')).toBe('intact');

  // Still connected, still syncing, both ways.
  await expectConnectedTo(b, [ids[0]]);
  await write(a, 'after', { still: 'working' });
  await write(b, 'reply', 1);
  await expect.poll(() => read(b, 'after')).toEqual({ still: 'working' });
  await expect.poll(() => read(a, 'reply')).toBe(1);
});
