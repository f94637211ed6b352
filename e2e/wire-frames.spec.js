// What a write puts on the wire between two real tabs: one OwnUpdate frame
// (PROTOCOL.md, type 20) that leaves the writer out, exactly as the
// independent PROTOCOL.md codec encodes it, and that the other tab
// attributes to the writer's replica. The frames are read where they leave
// the page: RTCDataChannel.prototype.send, wrapped in the writing tab.
import { expect, test } from '@playwright/test';
import {
  FrameType,
  decodeStateFrame,
  encodeOwnUpdateFrame,
} from '../tests/js/conformance/state-wire.js';
import { expectConnectedTo, openStartedTabs, read, status, uniqueRoom, write } from './support/nodes.js';

test('a write travels as one OwnUpdate of the size PROTOCOL.md gives, attributed to its writer', async ({ context }, testInfo) => {
  const { pages, ids } = await openStartedTabs(context, uniqueRoom(testInfo), 2);
  const [a, b] = pages;
  await expectConnectedTo(a, [ids[1]]);
  await a.evaluate(() => {
    window.__sentFrames = [];
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (data) {
      if (ArrayBuffer.isView(data)) window.__sentFrames.push(Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
      return send.call(this, data);
    };
  });
  await write(a, 'v', 1539);
  await expect.poll(() => read(b, 'v')).toBe(1539);

  const replicaA = (await status(a)).state.replicaId;
  const sent = await a.evaluate(() => window.__sentFrames);
  const own = sent.filter((bytes) => bytes[2] === FrameType.OwnUpdate).map((bytes) => Uint8Array.from(bytes));
  expect(own).toHaveLength(1);
  expect(sent.filter((bytes) => bytes[2] === FrameType.Update)).toHaveLength(0);
  const frame = decodeStateFrame(own[0], replicaA);
  expect(frame.writes).toHaveLength(1);
  expect(frame.writes[0]).toMatchObject({ key: 'v', value: '1539', replicaId: replicaA });
  expect(Array.from(encodeOwnUpdateFrame(frame.writes))).toEqual(Array.from(own[0]));
  // Header 4, count 1, key 2, value 5, clock 7 (a wall of 6 bytes), seq 1.
  expect(own[0].length).toBe(20);

  // B holds it under A's replica: B's own full update names the writer.
  const held = await b.evaluate(() => Array.from(window.node.getStateManager().encodeStateAsUpdate()));
  const write1539 = decodeStateFrame(Uint8Array.from(held)).writes.find((w) => w.key === 'v');
  expect(write1539).toMatchObject({ value: '1539', replicaId: replicaA, wall: frame.writes[0].wall, seq: frame.writes[0].seq });
});
