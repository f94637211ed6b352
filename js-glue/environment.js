// What start() needs from the environment that the page or process may lack,
// and where it comes from: in a browser, its own RTCPeerConnection and
// WebSocket; in Node.js, the optional packages node-datachannel (WebRTC) and,
// before Node 22, ws (the PeerJS server's socket), loaded here on the first
// start(). A node without them can still hold its state and run compute jobs
// on its own workers; it cannot reach peers, and start() says why instead of
// leaving the failures to the console.
import { acquireNodeWebRtc } from './webrtc/node-webrtc.js';
import { loadNodeWebSocket } from './transports/node-websocket.js';

// The reasons start() cannot go on in a browser, one sentence each; empty when it can.
export function missingForStart(config, env = globalThis) {
  const missing = [];
  if (typeof env.RTCPeerConnection !== 'function') {
    missing.push('this environment has no RTCPeerConnection (WebRTC), so the node cannot connect to peers');
  }
  if (config.peerServer && typeof env.WebSocket !== 'function') {
    missing.push('this environment has no WebSocket, which the peerServer option needs');
  }
  return missing;
}

// What the pool and the signaling transports use: {RTCPeerConnection,
// WebSocket, release()}, release() called once the node's connections are
// closed; or {missing: [reason, …]}. In Node.js, globals are not looked at:
// the packages are what the README tells users to install. `load` replaces
// the Node loaders in tests.
export async function networkingFor(config, { env = globalThis, load = {} } = {}) {
  if (!runsInNodeJs(env)) {
    const missing = missingForStart(config, env);
    if (missing.length > 0) return { missing };
    return { RTCPeerConnection: env.RTCPeerConnection, WebSocket: env.WebSocket, release() {} };
  }
  const { webrtc = acquireNodeWebRtc, webSocket = loadNodeWebSocket } = load;
  const [rtc, socket] = await Promise.allSettled([webrtc(), config.peerServer ? webSocket(env) : Promise.resolve(null)]);
  const missing = [rtc, socket].filter((r) => r.status === 'rejected').map((r) => r.reason?.message ?? String(r.reason));
  if (missing.length > 0) {
    if (rtc.status === 'fulfilled') rtc.value.release();
    return { missing };
  }
  return { RTCPeerConnection: rtc.value.RTCPeerConnection, WebSocket: socket.value, release: rtc.value.release };
}

function isNode(env) {
  return typeof env.process?.versions?.node === 'string';
}

// Node.js proper: a process and no page (an Electron renderer has a window
// and IndexedDB, and counts as a browser here).
export function runsInNodeJs(env = globalThis) {
  return isNode(env) && typeof env.window === 'undefined';
}
