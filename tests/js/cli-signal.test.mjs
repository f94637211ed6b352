// `peercompute signal` (the unmodified PeerJS server, in the bin's process)
// and a keeper whose server is not there yet: it says it is retrying, keeps
// running, and registers once `signal` listens on that port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, keeperArgs, peerConfig, startCli, startPeer } from './support/cli-processes.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'peercompute-signal-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const listening = (signal) => signal.waitFor((l) => typeof l === 'string' && /ws:\/\/127\.0\.0\.1:(\d+)\/peerjs/.test(l), 'the listening line');

describe('peercompute signal', () => {
  it('starts, a node registers on it and finds its room, and it stops on SIGTERM with exit 0', async () => {
    const signal = startCli(['signal', '--port', '0']);
    const line = await listening(signal);
    assert.match(line, /^PeerJS signaling server: ws:\/\/127\.0\.0\.1:\d+\/peerjs \(allow_discovery/);
    const port = Number(/:(\d+)\/peerjs/.exec(line)[1]);
    const room = `signal-${process.pid}`;
    const a = startPeer();
    const b = startPeer();
    const [idA, idB] = await Promise.all([
      a.call('start', { config: peerConfig(port, room) }),
      b.call('start', { config: peerConfig(port, room) }),
    ]);
    // Discovery (allow_discovery) and relayed signals: the two connect.
    await a.call('waitPeer', { peerId: idB });
    const status = await a.call('status');
    assert.equal(status.network.signalingServer.state, 'registered');
    assert.ok(status.network.signalingServer.url.startsWith(`ws://127.0.0.1:${port}/peerjs`), status.network.signalingServer.url);
    assert.ok(idA);
    await Promise.all([a.close(), b.close()]);
    const { code } = await signal.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(signal.lines.some((l) => l === 'SIGTERM: signaling server stopped'));
  });

  it('a port in use is refused naming it', async () => {
    const first = startCli(['signal', '--port', '0']);
    const port = Number(/:(\d+)\/peerjs/.exec(await listening(first))[1]);
    const second = startCli(['signal', '--port', String(port)]);
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(second.stderr, new RegExp(`--port: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    assert.equal((await first.stop('SIGINT')).code, 0);
  });
});

describe('peercompute keep: the server unreachable', () => {
  it('says it is retrying with backoff, keeps running, connects once the server is up, and stops on SIGTERM', async () => {
    const port = await freePort();
    const room = `unreachable-${process.pid}`;
    const json = startCli(keeperArgs({ port, room, dataDir: join(scratch, 'json') }));
    // Without --json and without a terminal: the events as plain lines.
    const plain = startCli(['keep', '--server', `127.0.0.1:${port}`, '--room', room, '--data-dir', join(scratch, 'plain')]);
    const retrying = await json.event('server', (e) => e.reconnects >= 1);
    assert.equal(retrying.state === 'reconnecting' || retrying.state === 'connecting', true);
    assert.match(retrying.message, new RegExp(`server ws://127\\.0\\.0\\.1:${port}/peerjs unreachable, retrying with backoff`));
    await plain.waitFor((l) => typeof l === 'string' && /unreachable, retrying with backoff/.test(l), 'the plain retry line');
    assert.equal(json.child.exitCode, null, 'still running');

    const signal = startCli(['signal', '--port', String(port)]);
    await listening(signal);
    await json.event('server', (e) => e.state === 'registered', 15_000);
    await plain.waitFor((l) => typeof l === 'string' && /server ws:\/\/\S+ connected$/.test(l), 'the plain connected line', 15_000);
    // Both keepers are in one room now: they find each other through the server.
    await json.event('peer-connected', () => true, 10_000);

    const [a, b] = await Promise.all([json.stop('SIGTERM'), plain.stop('SIGTERM')]);
    assert.equal(a.code, 0);
    assert.equal(b.code, 0);
    assert.ok(plain.lines.some((l) => typeof l === 'string' && /SIGTERM: leaving the room and storing the state/.test(l)));
    assert.equal((await signal.stop('SIGTERM')).code, 0);
  });
});
