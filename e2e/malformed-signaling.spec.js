// Hostile signaling through the real PeerJS server: raw WebSocket clients
// registered in a room's namespace send a connected pair garbage, forged,
// oversized and out-of-order signals, then a burst. The pair must not notice
// beyond counting rejections, and the room must stay open to newcomers.
import { expect, test } from '@playwright/test';
import { connectedPeerIds, openTab, read, uniqueRoom, write } from './support/nodes.js';
import {
  RawSignalingClient,
  SIGNAL_PORT,
  eventLog,
  expectConnectedPeers,
  networkStatus,
  peersOf,
  stateData,
  startTrackedNode,
  watchPageHealth,
} from './support/server.js';

const BURST = 500;

// The messages for `target` that the kernel must refuse (each one counts in
// rejectedSignals), and those it must ignore without harm. `evil` is the
// sender's node id, `other` the target's connected peer.
function hostileMessages({ room, evil, target, other }) {
  const env = (fields) => JSON.stringify({ v: 1, room, from: evil, inc: 1, ...fields });
  const forged = (fields) => JSON.stringify({ v: 1, room, from: other, inc: 1, ...fields });
  const sdp = (type) => ({ sdp: { type, sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' } });
  // A host candidate on loopback, port 9: nothing is ever sent off this machine.
  const candidate = { candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } };

  const refused = [
    // Not JSON.
    ['OFFER', 'this is not JSON'],
    ['OFFER', '{"v":1,'],
    ['OFFER', ''],
    ['CANDIDATE', '\u0000\u0001\u0002\ufffd'],
    ['ANSWER', '<signal/>'],
    ['OFFER', 'pcs1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    // JSON, but not an envelope.
    ['OFFER', 'null'],
    ['OFFER', '42'],
    ['OFFER', '"a string"'],
    ['OFFER', '[1,2,3]'],
    ['OFFER', '{}'],
    ['OFFER', '{"hello":"world"}'],
    ['OFFER', JSON.stringify({ v: 2, t: 'announce', room, from: evil })],
    ['OFFER', env({ t: 'teleport' })],
    ['OFFER', env({ t: 'announce', from: 'not a valid id!' })],
    ['OFFER', env({ t: 'announce', room: 7 })],
    ['OFFER', env({ t: 'announce', inc: -1 })],
    ['OFFER', env({ t: 'announce', to: '../../etc' })],
    ['ANSWER', env({ t: 'rtc', to: target, data: 'not an object' })],
    ['ANSWER', env({ t: 'rtc', data: sdp('answer') })], // rtc without a recipient
    // Envelopes claiming to come from the other node of the pair.
    ['OFFER', forged({ t: 'announce' })],
    ['OFFER', forged({ t: 'announce', inc: 999_999 })], // would read as "peer restarted"
    ['LEAVE', forged({ t: 'leave' })], // would drop the pair
    ['LEAVE', forged({ t: 'leave', to: target, inc: 999_999 })],
    ['OFFER', forged({ t: 'rtc', to: target, data: sdp('offer') })],
    ['ANSWER', forged({ t: 'rtc', to: target, data: sdp('answer') })],
    ['CANDIDATE', forged({ t: 'rtc', to: target, data: candidate })],
    // Payloads the PeerJS protocol carries as strings, sent as other JSON.
    ['OFFER', { v: 1, t: 'announce', room, from: evil }],
    ['ANSWER', 12345],
    ['CANDIDATE', ['candidate']],
    ['OFFER', true],
  ];
  const big = [
    ['OFFER', forged({ t: 'announce', pad: 'x'.repeat(60 * 1024) })], // 60 KB, under the 64 KiB limit: refused as forged
    ['OFFER', 'y'.repeat(60 * 1024)], // 60 KB of non-JSON
    ['OFFER', env({ t: 'announce', pad: 'z'.repeat(100 * 1024) })], // over the 64 KiB signal limit
    ['OFFER', env({ t: 'announce', pad: 'w'.repeat(200 * 1024) })], // over the 128 KiB server message limit
  ];
  const ignored = [
    // Other rooms and other recipients share the server: not errors.
    ['OFFER', env({ t: 'announce', room: `${room}-elsewhere` })],
    ['OFFER', env({ t: 'rtc', room: `${room}-elsewhere`, to: target, data: sdp('offer') })],
    ['OFFER', env({ t: 'announce', to: other })],
    ['OFFER', JSON.stringify({ v: 1, t: 'leave', room, from: target, inc: 1 })], // "from" the target itself
    // Unsolicited and out-of-order WebRTC payloads from the sender as itself:
    // candidates and an answer before any offer, then a garbage offer.
    ['CANDIDATE', env({ t: 'rtc', to: target, data: candidate })],
    ['ANSWER', env({ t: 'rtc', to: target, data: sdp('answer') })],
    ['CANDIDATE', env({ t: 'rtc', to: target, data: candidate })],
    ['OFFER', env({ t: 'rtc', to: target, data: { sdp: { type: 'offer', sdp: 'garbage' } } })],
    ['OFFER', env({ t: 'announce' })],
    ['ANSWER', env({ t: 'rtc', to: target, inc: 2, data: sdp('answer') })],
    ['CANDIDATE', env({ t: 'rtc', to: target, inc: 2, data: { candidate: null } })],
    // PeerJS control messages with this sender as their src.
    ['LEAVE', undefined],
    ['EXPIRE', undefined],
    ['OFFER', null],
  ];
  return { refused, big, ignored };
}

test('garbage, forged, oversized and unsolicited signals leave a connected pair intact, and a newcomer still joins', async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const room = uniqueRoom(testInfo);
  const contexts = [];
  const problems = [];
  const newTab = async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await openTab(context, room);
    const health = watchPageHealth(page);
    page.on('console', (m) => m.type() === 'error' && health.push(`console.error: ${m.text()}`));
    problems.push(health);
    return page;
  };
  const a = await newTab();
  const b = await newTab();
  const idA = await startTrackedNode(a, { roomId: room, peerServer: 'from-page' });
  const idB = await startTrackedNode(b, { roomId: room, peerServer: 'from-page' });
  await expectConnectedPeers(a, [idB]);
  await expectConnectedPeers(b, [idA]);
  await write(a, 'before', { written: 'before the attack' });
  await write(b, 'also-before', [1, 2, 3]);
  await expect.poll(() => read(b, 'before')).toEqual({ written: 'before the attack' });
  await expect.poll(() => read(a, 'also-before')).toEqual([1, 2, 3]);
  const stateBefore = await stateData(a);
  expect(await stateData(b)).toEqual(stateBefore);

  const serverIdA = (await networkStatus(a)).signalingServer.serverId;
  const serverIdB = (await networkStatus(b)).signalingServer.serverId;
  const tag = serverIdA.split('.')[0];
  expect(serverIdB.startsWith(`${tag}.`)).toBe(true);
  // 'pc--evil' sorts before every generated id, so the kernel lets it dial
  // (its WebRTC payloads reach the connection pool); 'pc-zz-evil' sorts after.
  const evilIds = ['pc--evil', 'pc-zz-evil'];
  const clients = [];
  for (const evil of evilIds) clients.push(await RawSignalingClient.connect({ port: SIGNAL_PORT, id: `${tag}.${evil}` }));

  const rejectedBefore = { [idA]: (await networkStatus(a)).rejectedSignals, [idB]: (await networkStatus(b)).rejectedSignals };
  const expectedRejections = { [idA]: 0, [idB]: 0 };
  const targets = [
    { page: a, id: idA, serverId: serverIdA, other: idB },
    { page: b, id: idB, serverId: serverIdB, other: idA },
  ];
  // While the attack runs, sample that the pair stays connected.
  let attacking = true;
  const lapses = [];
  const monitor = (async () => {
    while (attacking) {
      const [ofA, ofB] = [await connectedPeerIds(a), await connectedPeerIds(b)];
      if (ofA.join() !== idB || ofB.join() !== idA) lapses.push({ ofA, ofB });
      await a.waitForTimeout(200);
    }
  })();
  try {
    // The server itself gets junk too; it must keep relaying.
    clients[0].sendText('not JSON at all');
    clients[0].sendText(JSON.stringify({ type: 'NO-SUCH-TYPE', dst: serverIdA, payload: 'x' }));
    for (const [i, client] of clients.entries()) {
      for (const t of targets) {
        const { refused, big, ignored } = hostileMessages({ room, evil: evilIds[i], target: t.id, other: t.other });
        for (const [type, payload] of [...refused, ...big]) client.send(type, t.serverId, payload);
        for (const [type, payload] of ignored) client.send(type, t.serverId, payload);
        expectedRejections[t.id] += refused.length + big.length;
      }
    }
    // A burst of 500 refused messages to each node.
    const { refused: burstA } = hostileMessages({ room, evil: evilIds[0], target: idA, other: idB });
    const { refused: burstB } = hostileMessages({ room, evil: evilIds[0], target: idB, other: idA });
    for (let i = 0; i < BURST; i++) {
      const [typeA, payloadA] = burstA[i % burstA.length];
      const [typeB, payloadB] = burstB[i % burstB.length];
      clients[0].send(typeA, serverIdA, payloadA);
      clients[0].send(typeB, serverIdB, payloadB);
    }
    expectedRejections[idA] += BURST;
    expectedRejections[idB] += BURST;
    for (const client of clients) await client.flushed();

    // Every refused message was counted: the nodes processed the whole attack.
    for (const t of targets) {
      await expect
        .poll(async () => (await networkStatus(t.page)).rejectedSignals - rejectedBefore[t.id], { timeout: 20_000 })
        .toBeGreaterThanOrEqual(expectedRejections[t.id]);
      expect((await networkStatus(t.page)).lastRejection).toMatch(/^signal: /);
    }
    // The monitor keeps sampling the pair for 2 s after the last refusal.
    await a.waitForTimeout(2_000);
  } finally {
    attacking = false;
    await monitor;
    for (const client of clients) client.close();
  }
  expect(lapses).toEqual([]);
  for (const [page, other] of [[a, idB], [b, idA]]) {
    const log = await eventLog(page);
    expect(log.disconnected).toEqual([]);
    expect(log.connected.map((e) => e.peerId)).toEqual([other]);
    expect(log.messages).toEqual([]);
    // Nothing the attackers sent touched the state.
    expect(log.stateChanges.every((c) => c.origin === null || c.origin === other)).toBe(true);
    const peer = (await peersOf(page)).find((p) => p.peerId === other);
    expect(peer).toMatchObject({ state: 'connected', signaling: 'peerjs-server' });
    for (const evil of evilIds) expect(await connectedPeerIds(page)).not.toContain(evil);
  }
  expect(await stateData(a)).toEqual(stateBefore);
  expect(await stateData(b)).toEqual(stateBefore);

  // The pair still syncs, both ways.
  await write(a, 'after-a', 'a');
  await write(b, 'after-b', 'b');
  await expect.poll(() => read(b, 'after-a')).toBe('a');
  await expect.poll(() => read(a, 'after-b')).toBe('b');

  // And a legitimate node in a third context still finds the room through the server.
  const c = await newTab();
  const idC = await startTrackedNode(c, { roomId: room, peerServer: 'from-page' });
  await expectConnectedPeers(c, [idA, idB], 20_000);
  await expectConnectedPeers(a, [idB, idC]);
  await expectConnectedPeers(b, [idA, idC]);
  const finalState = { ...stateBefore, 'after-a': 'a', 'after-b': 'b' };
  for (const page of [a, b, c]) await expect.poll(() => stateData(page)).toEqual(finalState);

  for (const health of problems) expect(health).toEqual([]);
  for (const context of contexts) await context.close();
});
