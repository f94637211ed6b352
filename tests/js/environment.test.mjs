// A node in an environment without WebRTC (Node.js today) or, with a
// peerServer, without WebSocket: start() rejects and names what is missing,
// instead of errors that only reach the console; everything that needs no
// peer still works.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNode } from '../../dist/peercompute.js';
import { missingForStart } from '../../dist/environment.js';

describe('start() without the networking it needs', () => {
  it('rejects naming RTCPeerConnection, and the node stays stopped and usable', async () => {
    assert.equal(typeof globalThis.RTCPeerConnection, 'undefined', 'Node.js has no WebRTC');
    const node = await createNode({ roomId: 'no-webrtc', enablePersistence: false });
    await assert.rejects(
      node.start(),
      /^Error: start\(\): this environment has no RTCPeerConnection \(WebRTC\), so the node cannot connect to peers \(in Node\.js, peer networking is not supported yet\)\. Without start\(\) the node still keeps its state and runs compute jobs on its own workers\.$/,
    );
    assert.equal(node.getStatus().isStarted, false);
    node.getStateManager().write('k', 1);
    assert.equal(node.getStateManager().read('k'), 1);
    assert.deepEqual(await node.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 100 }]).result, [25]);
  });

  it('names WebSocket too when a peerServer is configured and there is none', () => {
    const env = { RTCPeerConnection: class {}, process: { versions: { node: '20.0.0' } } };
    assert.deepEqual(missingForStart({ peerServer: null }, env), []);
    assert.deepEqual(missingForStart({ peerServer: { host: 'localhost' } }, env), [
      'this environment has no WebSocket, which the peerServer option needs (Node.js has one from version 22)',
    ]);
    assert.deepEqual(missingForStart({ peerServer: { host: 'localhost' } }, { ...env, WebSocket: class {} }), []);
    assert.equal(missingForStart({ peerServer: null }, {}).length, 1, 'a browser-like environment without WebRTC');
    assert.doesNotMatch(missingForStart({ peerServer: null }, {})[0], /Node/);
  });
});
