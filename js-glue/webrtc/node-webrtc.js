// WebRTC in Node.js: node-datachannel (libdatachannel's bindings) and its
// W3C-style polyfill, which PeerConnectionPool drives as it drives a
// browser's RTCPeerConnection. node-datachannel is an optional peer
// dependency, imported only here, only in Node, by a specifier that bundlers
// do not follow, so that browser bundles never pull it in.
//
// Where the polyfill differs from Chromium, and what is done about it:
//   - max message size: libdatachannel announces a=max-message-size 256 KiB
//     unless told otherwise, and both refuse a send over the remote's
//     announced size (no announcement means 64 KiB, RFC 8841). Node peers
//     announce 262144, Chromium's value, so either side sees the same limit;
//     the kernel's channel messages are at most 64 KiB (maxChannelMessageBytes),
//     within every announcement.
//   - binaryType is 'arraybuffer' from the start, and messages arrive as
//     ArrayBuffers, as the pool asks of a browser's channel.
//   - a channel's close() takes effect on the next turn (setImmediate); the
//     pool forgets the entry first, so the late close event is ignored.
//   - libdatachannel negotiates by itself once a channel is created or an
//     offer applied; createOffer() and createAnswer() hand back what it made,
//     which is what the pool sends.
// Everything else the pool relies on (bufferedAmount and
// onbufferedamountlow, the unordered channel with maxRetransmits 0, the
// connection state, trickled candidates) the polyfill maps one to one.

import { importModule, importOptional, installCommand } from '../optional-import.js';

const PACKAGE = 'node-datachannel';
export const NODE_DATACHANNEL_INSTALL = installCommand(PACKAGE);

// Chromium's announced a=max-message-size.
export const MAX_MESSAGE_SIZE = 262_144;

let loaded = null; // Promise<{RTCPeerConnection, cleanup}>
let users = 0; // started nodes of this process that use it

// {RTCPeerConnection, cleanup}, or an Error that names the package to
// install. importPackage(name) imports a module; tests replace it to
// simulate a missing package.
export async function loadNodeDataChannel(importPackage = importModule) {
  const load = (specifier) => importOptional(PACKAGE, 'in Node.js the node connects to peers over WebRTC through', { specifier, importPackage });
  const [polyfill, library] = await Promise.all([load(`${PACKAGE}/polyfill`), load(PACKAGE)]);
  const Base = polyfill.RTCPeerConnection ?? polyfill.default?.RTCPeerConnection;
  const cleanup = library.cleanup ?? library.default?.cleanup;
  if (typeof Base !== 'function' || typeof cleanup !== 'function') {
    throw new Error(`the package ${PACKAGE} has no RTCPeerConnection polyfill; install version 0.33.4 or later: ${NODE_DATACHANNEL_INSTALL}`);
  }
  // The same announcement as Chromium, whatever the app passed.
  class RTCPeerConnection extends Base {
    constructor(config = {}) {
      super({ ...config, maxMessageSize: MAX_MESSAGE_SIZE });
    }
  }
  return { RTCPeerConnection, cleanup };
}

// For one started node: its RTCPeerConnection class, and release(), which
// the node calls on stop() once its connections are closed. The module loads
// once per process; a failed load is tried again by the next start().
export async function acquireNodeWebRtc(importPackage = importModule) {
  loaded ??= loadNodeDataChannel(importPackage).catch((error) => {
    loaded = null;
    throw error;
  });
  const { RTCPeerConnection, cleanup } = await loaded;
  users++;
  let released = false;
  return {
    RTCPeerConnection,
    release() {
      if (released) return;
      released = true;
      // libdatachannel's cleanup() ends every connection of the process and
      // its threads, so it waits for the last started node: until then
      // another node's connections are live. And for the next turn: the
      // polyfill closes a channel on the one after close() (setImmediate),
      // and a node may start again meanwhile.
      users--;
      setImmediate(() => {
        if (users === 0) cleanup();
      });
    },
  };
}
