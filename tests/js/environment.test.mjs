// Where start() gets its networking, and what it says when it cannot: in
// Node.js the optional packages node-datachannel (WebRTC) and ws (the PeerJS
// server's socket before Node 22), whose absence start() names with the
// command that installs them; in a browser-like environment its own
// RTCPeerConnection and WebSocket. Everything that needs no peer still works.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { missingForStart, networkingFor } from '../../dist/environment.js';
import { loadNodeWebSocket } from '../../dist/transports/node-websocket.js';
import { loadNodeDataChannel } from '../../dist/webrtc/node-webrtc.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// An import that fails as Node's resolver does for a package not installed.
function notInstalled(specifier) {
  const error = new Error(`Cannot find package '${specifier}'`);
  error.code = 'ERR_MODULE_NOT_FOUND';
  return Promise.reject(error);
}

// Runs `code` (an ES module) in a Node process where `packages` look uninstalled.
function runWithout(packages, code) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './tests/js/support/hide-packages.mjs', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      env: { ...process.env, HIDE_PACKAGES: packages.join(' ') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

const AFTER = ' Without start() the node still keeps its state and runs compute jobs on its own workers.';

describe('start() in Node.js without the optional packages', () => {
  it('names node-datachannel and the command that installs it; the node stays stopped and usable', async () => {
    const out = await runWithout(
      ['node-datachannel'],
      `
      import { createNode } from './dist/peercompute.js';
      const node = await createNode({ roomId: 'no-ndc', enablePersistence: false });
      const error = await node.start().then(() => null, (e) => e);
      node.getStateManager().write('k', 1);
      const primes = await node.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 100 }]).result;
      console.log(JSON.stringify({ message: error?.message, started: node.getStatus().isStarted, k: node.getStateManager().read('k'), primes }));
      `,
    );
    const result = JSON.parse(out);
    assert.equal(
      result.message,
      'start(): in Node.js the node connects to peers over WebRTC through the package node-datachannel, which is not installed. ' +
        'Install it beside peercompute: npm i node-datachannel.' +
        AFTER,
    );
    assert.deepEqual({ ...result, message: undefined }, { message: undefined, started: false, k: 1, primes: [25] });
  });

  it('names ws too when a peerServer is configured and Node has no WebSocket', async () => {
    const out = await runWithout(
      ['node-datachannel', 'ws'],
      `
      import { createNode } from './dist/peercompute.js';
      delete globalThis.WebSocket; // Node 22 and later have one
      const node = await createNode({ roomId: 'no-ws', enablePersistence: false, peerServer: { host: '127.0.0.1', port: 9 } });
      console.log(await node.start().then(() => 'started', (e) => e.message));
      `,
    );
    assert.match(out, /^start\(\): in Node\.js .* npm i node-datachannel; and the peerServer option needs a WebSocket, which Node\.js has from version 22; here it comes from the package ws, which is not installed\. Install it beside peercompute: npm i ws\. Without start\(\)/);
  });

  it('the loaders name the package, whether it is missing or broken', async () => {
    await assert.rejects(loadNodeDataChannel(notInstalled), (error) => {
      assert.match(error.message, /package node-datachannel, which is not installed\. Install it beside peercompute: npm i node-datachannel$/);
      assert.equal(error.cause.code, 'ERR_MODULE_NOT_FOUND');
      return true;
    });
    await assert.rejects(
      loadNodeDataChannel(() => Promise.reject(new Error('invalid ELF header'))),
      /node-datachannel, which could not be loaded \(invalid ELF header\)\. Reinstall it: npm i node-datachannel$/,
    );
    await assert.rejects(loadNodeWebSocket({}, notInstalled), /package ws, which is not installed\. Install it beside peercompute: npm i ws$/);
    // A global WebSocket (Node 22) is used as it is: ws is not imported.
    class Global {}
    assert.equal(await loadNodeWebSocket({ WebSocket: Global }, notInstalled), Global);
  });

  it('loads node-datachannel and ws where they are installed, ws only with a peerServer', async () => {
    const env = { process: { versions: { node: '20.0.0' } } };
    const noServer = await networkingFor({ peerServer: null }, { env });
    assert.equal(typeof noServer.RTCPeerConnection, 'function');
    assert.equal(noServer.WebSocket, null);
    noServer.release();
    const withServer = await networkingFor({ peerServer: { host: 'localhost' } }, { env });
    assert.equal(typeof withServer.WebSocket, 'function');
    assert.equal(withServer.WebSocket, (await import('ws')).WebSocket);
    withServer.release();
  });

  it('reports every missing piece at once, and releases what did load', async () => {
    let released = 0;
    const load = {
      webrtc: async () => ({ RTCPeerConnection: class {}, release: () => released++ }),
      webSocket: () => loadNodeWebSocket({}, notInstalled),
    };
    const env = { process: { versions: { node: '20.0.0' } } };
    const result = await networkingFor({ peerServer: { host: 'localhost' } }, { env, load });
    assert.equal(result.missing.length, 1);
    assert.match(result.missing[0], /npm i ws$/);
    assert.equal(released, 1);
  });
});

describe('start() in a browser-like environment without the networking it needs', () => {
  it('names RTCPeerConnection, and WebSocket when a peerServer is configured', async () => {
    assert.deepEqual(missingForStart({ peerServer: null }, {}), ['this environment has no RTCPeerConnection (WebRTC), so the node cannot connect to peers']);
    const env = { RTCPeerConnection: class {} };
    assert.deepEqual(missingForStart({ peerServer: null }, env), []);
    assert.deepEqual(missingForStart({ peerServer: { host: 'localhost' } }, env), ['this environment has no WebSocket, which the peerServer option needs']);
    assert.deepEqual(missingForStart({ peerServer: { host: 'localhost' } }, { ...env, WebSocket: class {} }), []);
    assert.deepEqual(await networkingFor({ peerServer: null }, { env: {} }), { missing: missingForStart({ peerServer: null }, {}) });
    // The page's own classes, and nothing imported.
    const page = await networkingFor({ peerServer: { host: 'localhost' } }, { env: { ...env, WebSocket: Array } });
    assert.equal(page.RTCPeerConnection, env.RTCPeerConnection);
    assert.equal(page.WebSocket, Array);
  });
});
