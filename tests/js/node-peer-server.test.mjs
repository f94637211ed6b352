// Two Node.js nodes in separate processes meet through the unmodified PeerJS
// server (npm `peer`, scripts/signaling-server.mjs, in a third process: see
// support/signaling-process.mjs) over WebSocket (ws, since Node 20 has no global one),
// and connect over real WebRTC: each gets the other's state and message.
// Each process then stops its node and ends by itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSignalingProcess } from './support/signaling-process.mjs';

const script = fileURLToPath(new URL('./support/peer-server-node.mjs', import.meta.url));

// The node's process; resolves to the JSON line it printed once it exited by itself.
function runNode(port, room, name) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, String(port), room, name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not finish in 20 s: ${out}${err}`));
    }, 20_000);
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1)));
      else reject(new Error(`${name} exited with ${code}: ${out}${err}`));
    });
  });
}

describe('Node.js nodes in two processes through the PeerJS server', () => {
  let server;
  before(async () => {
    server = await startSignalingProcess();
  });
  after(() => server?.stop());

  it('find each other, connect over WebRTC, share state and messages, and exit', async () => {
    const room = `node-peer-server-${process.pid}`;
    const [a, b] = await Promise.all([runNode(server.port, room, 'proc-a'), runNode(server.port, room, 'proc-b')]);
    assert.equal(a.peer, 'proc-b');
    assert.equal(b.peer, 'proc-a');
    assert.equal(a.theirs.name, 'proc-b');
    assert.equal(b.theirs.name, 'proc-a');
    assert.notEqual(a.theirs.pid, b.theirs.pid);
    assert.deepEqual(a.heard, [{ peerId: 'proc-b', message: { hello: 'proc-a', from: 'proc-b' } }]);
    assert.deepEqual(b.heard, [{ peerId: 'proc-a', message: { hello: 'proc-b', from: 'proc-a' } }]);
    assert.ok(a.server, 'the status shows the signaling server');
  });
});
