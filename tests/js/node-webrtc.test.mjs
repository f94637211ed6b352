// Two Node.js nodes in one process, in one room, over real WebRTC on
// loopback (node-datachannel), signaling through Node's BroadcastChannel:
// they connect, sync state both ways, exchange JSON, binary and unreliable
// messages and presence, and stop so that the process can exit. Below them,
// the pool over node-datachannel shows what a Chromium peer meets: the
// channels' labels and reliability, and the max message size announced.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createNode } from '../../dist/peercompute.js';
import { acquireNodeWebRtc, MAX_MESSAGE_SIZE } from '../../dist/webrtc/node-webrtc.js';
import { PeerConnectionPool } from '../../dist/webrtc/peer-connection-pool.js';
import { eventually } from './transport-contract/contract.mjs';

const room = `node-webrtc-${process.pid}`;

describe('two Node.js nodes over real WebRTC', () => {
  let a;
  let b;
  before(async () => {
    a = await createNode({ roomId: room, enablePersistence: false });
    b = await createNode({ roomId: room, enablePersistence: false });
    await Promise.all([a.start(), b.start()]);
    await eventually(() => {
      assert.deepEqual(a.getNetworkManager().getConnectedPeers().map((p) => p.peerId), [b.nodeId]);
      assert.deepEqual(b.getNetworkManager().getConnectedPeers().map((p) => p.peerId), [a.nodeId]);
    }, { timeout: 15_000 });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('a stop() while start() is still loading the networking leaves the node stopped', async () => {
    const c = await createNode({ roomId: `${room}-stop-early`, enablePersistence: false });
    const starting = c.start();
    await c.stop();
    await starting;
    assert.equal(c.isStarted, false);
    assert.equal(c.getStatus().isStarted, false);
    // And it starts again afterwards.
    await c.start();
    assert.equal(c.isStarted, true);
    await c.stop();
    assert.equal(c.isStarted, false);
  });

  it('sync state both ways', async () => {
    a.getStateManager().write('from-a', { n: 1, list: [1, 2] });
    b.getStateManager().write('from-b', 'b');
    a.getStateManager().write('shared', 'a');
    b.getStateManager().write('shared', 'b');
    await eventually(() => {
      assert.deepEqual(b.getStateManager().read('from-a'), { n: 1, list: [1, 2] });
      assert.equal(a.getStateManager().read('from-b'), 'b');
      assert.equal(a.getStateManager().read('shared'), b.getStateManager().read('shared'));
    });
  });

  it('exchange JSON, binary (past one channel message) and unreliable messages', async () => {
    const heard = { a: [], b: [] };
    const offA = a.getNetworkManager().addMessageHandler((peerId, message) => heard.a.push({ peerId, message }));
    const offB = b.getNetworkManager().addMessageHandler((peerId, message) => heard.b.push({ peerId, message }));
    try {
      const big = new Uint8Array(300_000).map((_, i) => i % 251); // fragmented into 64 KiB channel messages
      a.getNetworkManager().sendToPeer(b.nodeId, { hello: 'b', n: [1, 2, 3] });
      a.getNetworkManager().sendToPeer(b.nodeId, big);
      b.getNetworkManager().sendToPeer(a.nodeId, new Uint8Array([1, 2, 3]).subarray(1));
      // An unreliable message may be lost, even on loopback: sent until one arrives.
      await eventually(() => {
        b.getNetworkManager().sendToPeer(a.nodeId, { fast: true }, { reliable: false });
        assert.ok(heard.a.some((h) => h.message?.fast === true));
      }, { interval: 50 });
      await eventually(() => {
        assert.deepEqual(heard.b.map((h) => h.peerId), [a.nodeId, a.nodeId]);
        assert.deepEqual(heard.b[0].message, { hello: 'b', n: [1, 2, 3] });
        assert.ok(heard.b[1].message instanceof Uint8Array);
        assert.deepEqual(heard.b[1].message, big);
        assert.deepEqual([...heard.a.find((h) => h.message instanceof Uint8Array).message], [2, 3]);
      });
    } finally {
      offA();
      offB();
    }
  });

  it('share presence', async () => {
    a.getStateManager().setPresence({ name: 'a', cursor: [1, 2] });
    b.getStateManager().setPresence({ name: 'b' });
    await eventually(() => {
      assert.deepEqual(b.getStateManager().getPresence()[a.nodeId], { name: 'a', cursor: [1, 2] });
      assert.deepEqual(a.getStateManager().getPresence()[b.nodeId], { name: 'b' });
    });
  });

  it('see a peer stop as a disconnect', async () => {
    const c = await createNode({ roomId: room, enablePersistence: false });
    await c.start();
    await eventually(() => assert.ok(a.getNetworkManager().getConnectedPeers().some((p) => p.peerId === c.nodeId)), { timeout: 15_000 });
    const left = new Promise((resolve) => a.on('peer-disconnected', (e) => e.peerId === c.nodeId && resolve(e)));
    await c.stop();
    await left;
    assert.ok(!a.getNetworkManager().getConnectedPeers().some((p) => p.peerId === c.nodeId));
  });
});

describe('PeerConnectionPool over node-datachannel', () => {
  it('offers the channels a Chromium peer expects, announces Chromium\'s max message size and carries a 64 KiB message', async () => {
    const webrtc = await acquireNodeWebRtc();
    const signals = [];
    const opened = [];
    const data = [];
    const pools = {};
    const make = (me, other) =>
      new PeerConnectionPool({
        host: webrtc,
        events: {
          onLocalSignal: (peerId, json) => {
            signals.push({ from: me, json: JSON.parse(json) });
            setTimeout(() => pools[other].deliver(me, json));
          },
          onOpen: (peerId) => opened.push(me),
          onClose() {},
          onData: (peerId, bytes, unreliable) => data.push({ to: me, length: bytes.length, unreliable: !!unreliable }),
        },
      });
    pools.a = make('a', 'b');
    pools.b = make('b', 'a');
    try {
      pools.b.open('a', false);
      pools.a.open('b', true);
      await eventually(() => assert.deepEqual(opened.sort(), ['a', 'b']));
      const sdps = signals.filter((s) => s.json.sdp).map((s) => s.json.sdp);
      assert.deepEqual(sdps.map((s) => s.type), ['offer', 'answer']);
      for (const { sdp } of sdps) {
        assert.match(sdp, /^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel$/m);
        assert.match(sdp, new RegExp(`^a=max-message-size:${MAX_MESSAGE_SIZE}$`, 'm'));
      }
      // Candidates as a browser sends them: sdpMid set, for addIceCandidate on the other side.
      for (const { json } of signals.filter((s) => s.json.candidate)) assert.equal(typeof json.candidate.sdpMid, 'string');
      const reliable = pools.a.channel('b');
      assert.equal(reliable.label, 'peercompute');
      assert.equal(reliable.ordered, true);
      assert.equal(reliable.binaryType, 'arraybuffer');
      assert.equal(pools.b.channel('a').label, 'peercompute');
      assert.ok(pools.a.send('b', new Uint8Array(64 * 1024)));
      assert.ok(pools.b.send('a', new Uint8Array(10), true));
      await eventually(() =>
        assert.deepEqual(data.sort((x, y) => x.to.localeCompare(y.to)), [
          { to: 'a', length: 10, unreliable: true },
          { to: 'b', length: 65536, unreliable: false },
        ]),
      );
      // Past the announced size, libdatachannel refuses the send, as Chromium does.
      assert.throws(() => reliable.send(new Uint8Array(MAX_MESSAGE_SIZE + 1)), /Message size exceeds limit/);
    } finally {
      pools.a.closeAll();
      pools.b.closeAll();
      webrtc.release();
    }
  });
});
