// Binary messages (ArrayBuffer and typed arrays arrive as Uint8Array, byte
// for byte) and the unreliable, unordered channel for high-rate snapshots.
import { expect, test } from '@playwright/test';
import { expectConnectedTo, openStartedTabs, uniqueRoom } from './support/nodes.js';

async function connectedPair(context, testInfo) {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  await expectConnectedTo(pages[0], [ids[1]]);
  await expectConnectedTo(pages[1], [ids[0]]);
  await pages[1].evaluate(() => {
    window.received = [];
    window.node.getNetworkManager().addMessageHandler((peerId, message) => {
      window.received.push(
        message instanceof Uint8Array
          ? { peerId, kind: 'bytes', length: message.length, bytes: Array.from(message.subarray(0, 8)), sum: message.reduce((s, b) => (s * 31 + b) >>> 0, 0) }
          : { peerId, kind: 'json', message },
      );
    });
  });
  return { pages, ids };
}

test('ArrayBuffer, typed arrays and DataView arrive as exact bytes; JSON still arrives as JSON', async ({ context }, testInfo) => {
  const { pages, ids } = await connectedPair(context, testInfo);
  const expected = await pages[0].evaluate((peer) => {
    const net = window.node.getNetworkManager();
    const backing = new Uint8Array([9, 9, 0, 255, 1, 128, 7, 9, 9]);
    const sends = [
      new Uint8Array([0, 1, 2, 254, 255]).buffer,
      new Float64Array([Math.PI, -0]),
      new Uint8Array(backing.buffer, 2, 5), // a view into part of a buffer: only its bytes go
      new DataView(backing.buffer, 3, 2),
      new Uint8Array(0),
    ];
    for (const s of sends) net.sendToPeer(peer, s);
    net.sendToPeer(peer, { not: 'binary', bytes: [1, 2] });
    const view = (s) => new Uint8Array(s instanceof ArrayBuffer ? s : s.buffer, s.byteOffset ?? 0, s.byteLength);
    return sends.map((s) => {
      const b = view(s);
      return { kind: 'bytes', length: b.length, bytes: Array.from(b.subarray(0, 8)), sum: b.reduce((x, y) => (x * 31 + y) >>> 0, 0) };
    });
  }, ids[1]);
  await expect.poll(() => pages[1].evaluate(() => window.received.length)).toBe(6);
  const got = await pages[1].evaluate(() => window.received);
  expect(got.slice(0, 5).map(({ peerId, ...rest }) => rest)).toEqual(expected);
  expect(got[5]).toEqual({ peerId: ids[0], kind: 'json', message: { not: 'binary', bytes: [1, 2] } });
});

test('a 16 MB binary message arrives intact through fragments and backpressure', async ({ context }, testInfo) => {
  test.setTimeout(90_000);
  const { pages, ids } = await connectedPair(context, testInfo);
  const sent = await pages[0].evaluate((peer) => {
    const data = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    window.node.getNetworkManager().broadcast(data);
    return { length: data.length, bytes: Array.from(data.subarray(0, 8)), sum: data.reduce((s, b) => (s * 31 + b) >>> 0, 0) };
  }, ids[1]);
  await expect.poll(() => pages[1].evaluate(() => window.received.length), { timeout: 60_000 }).toBe(1);
  const [got] = await pages[1].evaluate(() => window.received);
  expect(got).toEqual({ peerId: ids[0], kind: 'bytes', ...sent });
});

test('unreliable messages flow at 20 per second beside reliable ones; oversized ones are refused', async ({ context }, testInfo) => {
  const { pages, ids } = await connectedPair(context, testInfo);
  const refused = await pages[0].evaluate(async (peer) => {
    const net = window.node.getNetworkManager();
    for (let n = 0; n < 40; n++) {
      net.broadcast(new Float32Array([n, n * 0.5, -n]), { reliable: false });
      if (n % 10 === 0) net.sendToPeer(peer, { reliableTick: n });
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      net.sendToPeer(peer, new Uint8Array(200 * 1024), { reliable: false });
      return null;
    } catch (error) {
      return error.message;
    }
  }, ids[1]);
  expect(refused).toMatch(/unreliable message must fit one channel message/);
  await expect.poll(() => pages[1].evaluate(() => window.received.filter((r) => r.kind === 'json').length)).toBe(4);
  const got = await pages[1].evaluate(() => window.received);
  const snapshots = got.filter((r) => r.kind === 'bytes');
  // Two tabs on one machine lose nothing in practice, but the channel makes no promise: most must arrive.
  expect(snapshots.length).toBeGreaterThanOrEqual(30);
  expect(snapshots.every((s) => s.length === 12)).toBe(true);
  const json = got.filter((r) => r.kind === 'json').map((r) => r.message.reliableTick);
  expect(json).toEqual([0, 10, 20, 30]); // the reliable channel stays ordered
  const stats = await pages[1].evaluate(() => window.node.getNetworkManager().getPeers()[0]);
  expect(stats.messagesIn).toBe(snapshots.length + 4);
  expect(stats.rejected).toBe(0);
});
