// The signaling transport contract (tests/js/transport-contract/contract.mjs)
// in Node: BroadcastChannelTransport over Node's own BroadcastChannel, and
// PeerServerSocket against the unmodified PeerJS server (npm `peer`) run as a
// child process, as the e2e suite runs it. The socket is given ws's
// WebSocket as its host's, as a node's start() gives it in Node.js before
// version 22 (js-glue/transports/node-websocket.js).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadNodeWebSocket } from '../../js-glue/transports/node-websocket.js';

import { BroadcastChannelTransport } from '../../js-glue/transports/broadcast-channel-transport.js';
import { startSignalingProcess } from './support/signaling-process.mjs';
import { broadcastChannelFixture, CONTRACT_CHECKS, eventually, peerServerFixture } from './transport-contract/contract.mjs';

// What the node's start() hands the transports in Node.js: Node's own
// WebSocket from version 22, ws's before.
const host = { WebSocket: await loadNodeWebSocket() };

let rooms = 0;

function recordingEvents(log) {
  return {
    onOpen: () => log.opens++,
    onMessage: (text) => log.messages.push(text),
    onClosed: () => log.closes++,
    onListing: (ok, text) => log.listings.push({ ok, text }),
  };
}

// Transports in this process; `tab` means nothing here.
function nodePlace(fixture) {
  const transports = new Map();
  const logs = new Map();
  return {
    async create(slot) {
      const Transport = (await import(`../../js-glue/${fixture.module}`))[fixture.transport];
      const log = { opens: 0, closes: 0, messages: [], listings: [] };
      logs.set(slot, log);
      transports.set(slot, new Transport(recordingEvents(log), host));
      const methods = Object.getOwnPropertyNames(Transport.prototype).filter((m) => m !== 'constructor');
      return { route: Transport.route, methods };
    },
    async call(slot, method, ...args) {
      transports.get(slot)[method](...args);
    },
    async log(slot) {
      const log = logs.get(slot);
      return { ...log, messages: [...log.messages], listings: [...log.listings] };
    },
    async dispose() {
      for (const transport of transports.values()) transport.close();
    },
  };
}

function runContract(fixture) {
  // A check that is not for this transport (a listing where there is none)
  // is not registered at all.
  for (const check of CONTRACT_CHECKS.filter((c) => c.applies?.(fixture()) ?? true)) {
    it(check.title, async () => {
      const place = nodePlace(fixture());
      try {
        await check.run({ fixture: fixture(), place, room: `node-contract-${process.pid}-${rooms++}` });
      } finally {
        await place.dispose();
      }
    });
  }
}

describe('signaling transport contract: BroadcastChannelTransport (Node)', () => {
  runContract(() => broadcastChannelFixture);

  it('reports onClosed, and no onOpen, where there is no BroadcastChannel', async () => {
    const saved = globalThis.BroadcastChannel;
    delete globalThis.BroadcastChannel;
    const log = { opens: 0, closes: 0, messages: [], listings: [] };
    try {
      new BroadcastChannelTransport(recordingEvents(log)).open('peercompute:nowhere');
    } finally {
      globalThis.BroadcastChannel = saved;
    }
    await eventually(() => assert.equal(log.closes, 1));
    assert.equal(log.opens, 0);
  });
});

describe('signaling transport contract: PeerServerSocket (Node, ws)', () => {
  let server = null;
  before(async () => {
    server = await startSignalingProcess();
  });
  after(() => server?.stop());
  runContract(() => peerServerFixture({ host: '127.0.0.1', port: server?.port ?? 0 }));
});
