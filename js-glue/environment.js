// What start() needs from the environment that the page or process may lack.
// A node without them can still hold its state and run compute jobs on its
// own workers; it cannot reach peers, and start() says why instead of
// leaving the failures to the console.

// The reasons start() cannot go on here, one sentence each; empty when it can.
export function missingForStart(config, env = globalThis) {
  const missing = [];
  if (typeof env.RTCPeerConnection !== 'function') {
    missing.push(
      'this environment has no RTCPeerConnection (WebRTC), so the node cannot connect to peers' +
        (isNode(env) ? ' (in Node.js, peer networking is not supported yet)' : ''),
    );
  }
  if (config.peerServer && typeof env.WebSocket !== 'function') {
    missing.push(
      'this environment has no WebSocket, which the peerServer option needs' + (isNode(env) ? ' (Node.js has one from version 22)' : ''),
    );
  }
  return missing;
}

function isNode(env) {
  return typeof env.process?.versions?.node === 'string';
}

// Node.js proper: a process and no page (an Electron renderer has a window
// and IndexedDB, and counts as a browser here).
export function runsInNodeJs(env = globalThis) {
  return isNode(env) && typeof env.window === 'undefined';
}
