// For Node tests of a started node that never connects to anyone (one node
// alone in its room): start() requires WebRTC to exist, and Node.js has none.
// This stands in for the global only; constructing it fails the test, since
// no such test may open a connection.
globalThis.RTCPeerConnection ??= class RTCPeerConnection {
  constructor() {
    throw new Error('this test opened a WebRTC connection, but Node.js has no WebRTC');
  }
};
