// The PeerConnectionPool's send queue bound, against a stand-in
// RTCPeerConnection, given to the pool as its host's: every send the pool queues counts,
// a send that would pass MAX_QUEUED_BYTES is dropped, and onOverflow comes
// once per connection. The kernel's answer to it (a disconnect) is covered by
// the native tests; real channels by the e2e tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

class FakeChannel {
  readyState = 'connecting';
  bufferedAmount = 0;
  sent = [];
  constructor(label) {
    this.label = label;
  }
  send(bytes) {
    this.sent.push(bytes);
    this.bufferedAmount += bytes.length;
  }
  close() {
    this.readyState = 'closed';
  }
  // The network took everything: the channel reports it has drained.
  drain() {
    this.bufferedAmount = 0;
    this.onbufferedamountlow?.();
  }
}

class FakePeerConnection {
  static all = [];
  channels = [];
  connectionState = 'new';
  constructor() {
    FakePeerConnection.all.push(this);
  }
  createDataChannel(label) {
    const channel = new FakeChannel(label);
    this.channels.push(channel);
    return channel;
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0' };
  }
  async setLocalDescription(description) {
    this.localDescription = { toJSON: () => description };
  }
  close() {
    this.connectionState = 'closed';
  }
}

const { MAX_QUEUED_BYTES, PeerConnectionPool } = await import('../../dist/webrtc/peer-connection-pool.js');
const networkManager = await import('../../dist/network-manager.js');

const MiB = 1024 * 1024;

// A pool with one open connection to `peer`, its reliable channel, and the
// peers onOverflow was called for.
function openPool(peer = 'pc-peer') {
  const overflows = [];
  const pool = new PeerConnectionPool({
    host: { RTCPeerConnection: FakePeerConnection },
    events: { onLocalSignal() {}, onOpen() {}, onClose() {}, onData() {}, onOverflow: (peerId) => overflows.push(peerId) },
  });
  pool.open(peer, true);
  const [channel] = FakePeerConnection.all.at(-1).channels;
  channel.readyState = 'open';
  return { pool, channel, overflows };
}

const microtask = () => new Promise((resolve) => queueMicrotask(resolve));

describe('PeerConnectionPool send queue bound (stand-in RTCPeerConnection)', () => {
  it('is 64 MiB, exported by the pool and, as before, by the network manager', () => {
    assert.equal(MAX_QUEUED_BYTES, 64 * MiB);
    assert.equal(networkManager.MAX_QUEUED_BYTES, MAX_QUEUED_BYTES);
  });

  it('drops a send that would take the queue past the bound, and reports the connection once', async () => {
    const { pool, channel, overflows } = openPool();
    const chunk = new Uint8Array(MiB);
    // 1 MiB goes to the channel (its high-water mark); the rest queues.
    assert.equal(pool.send('pc-peer', chunk), true);
    assert.equal(channel.sent.length, 1);
    for (let i = 0; i < 64; i++) assert.equal(pool.send('pc-peer', chunk), true, `chunk ${i}`);
    assert.equal(pool.queuedBytes('pc-peer'), 64 * MiB);
    assert.equal(pool.send('pc-peer', new Uint8Array(1)), false, 'one byte more would pass the bound');
    assert.deepEqual(overflows, [], 'reported after the send, not inside it');
    await microtask();
    assert.deepEqual(overflows, ['pc-peer']);
    // The stream has a gap now: nothing more goes, small or not, and it is reported no more.
    assert.equal(pool.send('pc-peer', new Uint8Array(1)), false);
    assert.equal(pool.send('pc-peer', chunk), false);
    channel.drain();
    assert.equal(channel.sent.length, 1, 'the queue was dropped with it');
    assert.equal(pool.queuedBytes('pc-peer'), 0);
    await microtask();
    assert.deepEqual(overflows, ['pc-peer']);
  });

  it('counts every queued send, whoever sends it, and lets the queue drain within the bound', async () => {
    const { pool, channel, overflows } = openPool();
    const chunk = new Uint8Array(MiB);
    for (let i = 0; i < 65; i++) pool.send('pc-peer', chunk);
    assert.equal(pool.queuedBytes('pc-peer'), 64 * MiB);
    channel.drain(); // 1 MiB more goes to the channel
    assert.equal(pool.queuedBytes('pc-peer'), 63 * MiB);
    assert.equal(pool.send('pc-peer', chunk), true, 'room for one more MiB');
    assert.equal(pool.send('pc-peer', new Uint8Array(1)), false);
    await microtask();
    assert.deepEqual(overflows, ['pc-peer']);
  });

  it('reports a new connection to the same peer afresh, and not the old one once closed', async () => {
    const { pool, overflows } = openPool('pc-a');
    const chunk = new Uint8Array(MiB);
    for (let i = 0; i < 66; i++) pool.send('pc-a', chunk);
    pool.close('pc-a'); // the kernel closed it before the event ran
    await microtask();
    assert.deepEqual(overflows, []);
    pool.open('pc-a', true);
    const [channel] = FakePeerConnection.all.at(-1).channels;
    channel.readyState = 'open';
    assert.equal(pool.send('pc-a', chunk), true, 'the new connection starts empty');
    for (let i = 0; i < 65; i++) pool.send('pc-a', chunk);
    await microtask();
    assert.deepEqual(overflows, ['pc-a']);
  });

  it('unreliable sends never queue, so never overflow', async () => {
    const { pool, overflows } = openPool();
    const unreliable = FakePeerConnection.all.at(-1).channels[1];
    unreliable.readyState = 'open';
    for (let i = 0; i < 100; i++) assert.equal(pool.send('pc-peer', new Uint8Array(MiB), true), true);
    assert.equal(unreliable.sent.length, 1, 'dropped while the channel is backed up');
    assert.equal(pool.queuedBytes('pc-peer'), 0);
    await microtask();
    assert.deepEqual(overflows, []);
  });
});

describe('PeerConnectionPool when the RTCPeerConnection cannot be made', () => {
  it('reports the connection closed, after the open, so the kernel does not wait out its connect timeout', async () => {
    const closed = [];
    const warnings = [];
    const warn = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    try {
      const pool = new PeerConnectionPool({
        host: {
          RTCPeerConnection: class {
            constructor() {
              throw new Error('Cannot create so many PeerConnections');
            }
          },
        },
        events: { onLocalSignal() {}, onOpen() {}, onClose: (peerId) => closed.push(peerId), onData() {} },
      });
      pool.open('pc-peer', true);
      assert.deepEqual(closed, [], 'not inside the open: the kernel is handling an output');
      await microtask();
      assert.deepEqual(closed, ['pc-peer']);
      assert.equal(pool.send('pc-peer', new Uint8Array(1)), false, 'nothing to send on');
      assert.match(warnings.join('\n'), /creating the connection for pc-peer.*Cannot create so many PeerConnections/);
    } finally {
      console.warn = warn;
    }
  });
});

describe('NetworkManager checks an app message against the bound first', () => {
  // A node's network manager over a pool whose queue to 'pc-peer' holds `queued` bytes.
  function manager(queued) {
    const sent = [];
    const kernel = { sendMessage: (peerId, size, binary) => (sent.push({ peerId, size, binary }), '') };
    const driver = {
      inputText: (text, fn) => fn(kernel, text.length, 0),
      inputBytes: (bytes, fn) => fn(kernel, bytes.length, 0),
    };
    const pool = { queuedBytes: () => queued, send: () => true };
    return { network: new networkManager.NetworkManager(driver, pool, { emit() {} }), sent };
  }

  it('throws rather than let a message pass the bound, counting text in UTF-8', () => {
    const full = /sendToPeer\(peerId, message, options\): the send queue to pc-peer is full \(41943040 bytes waiting, limit 67108864\); wait for it to drain/;
    // 8 Mi characters of '€' are 24 MiB of UTF-8: 40 + 24 MiB and the framing pass 64 MiB.
    assert.throws(() => manager(40 * MiB).network.sendToPeer('pc-peer', '€'.repeat(8 * MiB)), full);
    assert.throws(() => manager(40 * MiB).network.sendToPeer('pc-peer', new Uint8Array(24 * MiB)), full);
    assert.throws(() => manager(40 * MiB).network.sendRaw('pc-peer', new Uint8Array(24 * MiB)), /sendRaw\(peerId, bytes\): the send queue to pc-peer is full/);
    // 20 Mi ASCII characters are 20 MiB: they fit.
    const { network, sent } = manager(40 * MiB);
    assert.equal(network.sendToPeer('pc-peer', 'x'.repeat(20 * MiB)), true);
    assert.equal(network.sendToPeer('pc-peer', new Uint8Array(20 * MiB)), true);
    assert.deepEqual(sent.map((s) => s.binary), [false, true]);
  });

  it('lets small messages through an empty queue without counting', () => {
    const { network, sent } = manager(0);
    for (let i = 0; i < 10; i++) network.sendToPeer('pc-peer', { i });
    assert.equal(sent.length, 10);
  });
});
