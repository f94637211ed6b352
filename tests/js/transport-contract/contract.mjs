// The contract every signaling transport meets
// (js-glue/transports/signaling-transport.js), written once and run against
// each transport: in Node by tests/js/transport-contract.test.mjs, in
// Chromium tabs by e2e/transport-contract.spec.js.
//
// A check runs with
//   - a fixture: the transport, and what the kernel's route puts on its
//     medium for a message to everyone or to one node (the fixtures below);
//   - a place, where the transports live, which drives them by slot name:
//       create(slot, tab) -> {route, methods}   a transport in tab 0 or 1
//       call(slot, method, ...args)             open, send, close, list
//       log(slot) -> {opens, closes, messages, listings}   what its events said
//       dispose()
//   - a room name no other run uses.
import assert from 'node:assert/strict';

// The BroadcastChannel reaches every tab on the channel, addressed or not.
export const broadcastChannelFixture = Object.freeze({
  transport: 'BroadcastChannelTransport',
  module: 'transports/broadcast-channel-transport.js',
  route: 'broadcast-channel',
  url: (room) => `peercompute:${room}`,
  toEveryone: (body) => [[body, '']],
  toOne: (body, to) => [[body, to.address]],
  bodyOf: (text) => text,
  onlyAddresseeHears: false,
});

// The unmodified PeerJS server relays {type, dst, payload} to dst alone,
// stamping src; "everyone" is one message per member. An address is the id
// a socket registered.
export function peerServerFixture({ host, port, path = '/peerjs', key = 'peerjs' }) {
  const base = `${host}:${port}${path}`;
  const relayed = (body, to) => [JSON.stringify({ type: 'OFFER', dst: to.address, payload: body }), to.address];
  return Object.freeze({
    transport: 'PeerServerSocket',
    module: 'transports/peer-server-socket.js',
    route: 'peerjs-server',
    // The token is fixed per id, so a socket that reopens takes its id back.
    url: (room, address) => `ws://${base}/peerjs?key=${key}&id=${encodeURIComponent(address)}&token=${encodeURIComponent(`t-${address}`)}`,
    toEveryone: (body, others) => others.map((member) => relayed(body, member)),
    toOne: (body, to) => [relayed(body, to)],
    // The server's own messages (OPEN, EXPIRE, ...) carry no body.
    bodyOf: (text) => {
      try {
        const message = JSON.parse(text);
        return message.type === 'OFFER' && typeof message.payload === 'string' ? message.payload : null;
      } catch {
        return null;
      }
    },
    onlyAddresseeHears: true,
    listingUrl: `http://${base}/${key}/peers`,
    // Nothing listens on port 1.
    unreachableUrl: `ws://127.0.0.1:1${path}/peerjs?key=${key}&id=nobody&token=t`,
  });
}

// Retries `check` until it passes or `timeout` ms have gone by.
export async function eventually(check, { timeout = 10_000, interval = 25 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await sleep(interval);
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Long enough for a stray duplicate or a leaked message to arrive.
const settle = () => sleep(300);

class Member {
  constructor({ fixture, place, room }, slot, tab) {
    Object.assign(this, { fixture, place, room, slot, tab });
    this.address = `${room}.${slot}`;
  }

  async create() {
    ({ route: this.route, methods: this.methods } = await this.place.create(this.slot, this.tab));
    return this;
  }

  log() {
    return this.place.log(this.slot);
  }

  // Opens, and waits for the open event.
  async open() {
    const { opens } = await this.log();
    await this.place.call(this.slot, 'open', this.fixture.url(this.room, this.address));
    await eventually(async () => assert.equal((await this.log()).opens, opens + 1, `${this.slot} reports onOpen`));
  }

  close() {
    return this.place.call(this.slot, 'close');
  }

  async sendToEveryone(body, others) {
    for (const [text, to] of this.fixture.toEveryone(body, others)) await this.place.call(this.slot, 'send', text, to);
  }

  async sendTo(body, member) {
    for (const [text, to] of this.fixture.toOne(body, member)) await this.place.call(this.slot, 'send', text, to);
  }

  // The bodies of the messages it heard, in order.
  async heard() {
    return (await this.log()).messages.map(this.fixture.bodyOf).filter((body) => body !== null);
  }
}

async function members(run, layout) {
  const made = {};
  for (const [slot, tab] of Object.entries(layout)) made[slot] = await new Member(run, slot, tab).create();
  return made;
}

async function expectHeard(expected) {
  await eventually(async () => {
    for (const [member, bodies] of expected) assert.deepEqual(await member.heard(), bodies, `what ${member.slot} heard`);
  });
}

// What every transport must do. `applies(fixture)`: absent means always.
export const CONTRACT_CHECKS = [
  {
    title: 'names the route the kernel knows it by, and reports onOpen once when open',
    async run(run) {
      const { a } = await members(run, { a: 0 });
      assert.equal(a.route, run.fixture.route);
      for (const method of ['open', 'send', 'close']) assert.ok(a.methods.includes(method), `has ${method}()`);
      await a.open();
      await settle();
      const log = await a.log();
      assert.deepEqual([log.opens, log.closes], [1, 0]);
    },
  },
  {
    title: 'a message to everyone reaches every other open transport once, intact and in order, and not its sender',
    async run(run) {
      const { a, b, c } = await members(run, { a: 0, b: 1, c: 1 });
      for (const m of [a, b, c]) await m.open();
      for (const body of ['a1', 'a2 {"json": true}', 'a3']) await a.sendToEveryone(body, [b, c]);
      const fromA = ['a1', 'a2 {"json": true}', 'a3'];
      await expectHeard([[b, fromA], [c, fromA]]);
      await b.sendToEveryone('b1', [a, c]);
      await expectHeard([[a, ['b1']], [c, [...fromA, 'b1']]]);
      await settle();
      await expectHeard([[a, ['b1']], [b, fromA], [c, [...fromA, 'b1']]]);
    },
  },
  {
    title: 'an addressed message reaches its addressee (and no one else, where the medium addresses it)',
    async run(run) {
      const { a, b, c } = await members(run, { a: 0, b: 1, c: 1 });
      for (const m of [a, b, c]) await m.open();
      // Where the medium reaches everyone (a BroadcastChannel), the others hear it too.
      const only = run.fixture.onlyAddresseeHears;
      await a.sendTo('for b', b);
      await expectHeard([[b, ['for b']]]);
      await b.sendTo('for c', c);
      await expectHeard([[c, only ? ['for c'] : ['for b', 'for c']]]);
      await settle();
      await expectHeard([[a, only ? [] : ['for c']], [b, ['for b']], [c, only ? ['for c'] : ['for b', 'for c']]]);
    },
  },
  {
    title: 'large non-ASCII messages (about 60 KB) pass intact',
    async run(run) {
      const { a, b } = await members(run, { a: 0, b: 1 });
      await a.open();
      await b.open();
      const big = JSON.stringify({ v: 2, text: 'é✓€😀\u2028"\\'.repeat(3_200) });
      assert.ok(new TextEncoder().encode(big).length > 60_000);
      const addressed = `${big} to b`;
      await a.sendToEveryone(big, [b]);
      await a.sendTo(addressed, b);
      await expectHeard([[b, [big, addressed]]]);
    },
  },
  {
    title: 'after close() nothing is heard or sent, no event follows, and the others carry on',
    async run(run) {
      const { a, b } = await members(run, { a: 0, b: 1 });
      await a.open();
      await b.open();
      await a.close();
      await b.sendToEveryone('to everyone, a closed', [a]);
      await b.sendTo('to a, closed', a);
      await a.sendToEveryone('from a, closed', [b]);
      await a.sendTo('from a to b, closed', b);
      const { d } = await members(run, { d: 0 });
      await d.open();
      await b.sendToEveryone('marker', [d]);
      await d.sendTo('from d', b);
      await expectHeard([[d, ['marker']], [b, ['from d']]]);
      await settle();
      await expectHeard([[a, []], [b, ['from d']], [d, ['marker']]]);
      const log = await a.log();
      assert.equal(log.opens, 1);
      assert.equal(log.closes, 0, 'close() raises no onClosed');
    },
  },
  {
    title: 'close() then open() again works',
    async run(run) {
      const { a, b } = await members(run, { a: 0, b: 1 });
      await a.open();
      await b.open();
      await a.close();
      await a.open();
      await b.sendTo('after reopening', a);
      await a.sendTo('back', b);
      await expectHeard([[a, ['after reopening']], [b, ['back']]]);
      assert.equal((await a.log()).closes, 0);
    },
  },
  {
    title: "list() answers onListing with the route's members, where the route has a listing",
    applies: (fixture) => fixture.listingUrl !== undefined,
    async run(run) {
      const { a, b } = await members(run, { a: 0, b: 1 });
      await a.open();
      await b.open();
      await run.place.call(a.slot, 'list', run.fixture.listingUrl);
      const [listing] = await eventually(async () => {
        const { listings } = await a.log();
        assert.equal(listings.length, 1);
        return listings;
      });
      assert.equal(listing.ok, true);
      const ids = JSON.parse(listing.text);
      for (const m of [a, b]) assert.ok(ids.includes(m.address), `${m.address} is listed`);
    },
  },
  {
    title: 'a transport whose route has no listing has no list()',
    applies: (fixture) => fixture.listingUrl === undefined,
    async run(run) {
      const { a } = await members(run, { a: 0 });
      assert.ok(!a.methods.includes('list'));
    },
  },
  {
    title: 'open() where the medium cannot be reached reports onClosed, and no onOpen',
    applies: (fixture) => fixture.unreachableUrl !== undefined,
    async run(run) {
      const { a } = await members(run, { a: 0 });
      await run.place.call(a.slot, 'open', run.fixture.unreachableUrl);
      await eventually(async () => assert.equal((await a.log()).closes, 1));
      await settle();
      const log = await a.log();
      assert.deepEqual([log.opens, log.closes], [0, 1]);
    },
  },
];
