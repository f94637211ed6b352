// The keeper (`peercompute keep --json`) in real processes: the unmodified
// PeerJS server in a child process (support/signaling-process.mjs), Node
// peers in processes of their own (support/json-peer.mjs) over real WebRTC,
// and the room's state in real LevelDB under a scratch --data-dir.
//
// How a test knows a write is on disk: the keeper's "stored" event comes
// after an empty batchWrite() resolved, which the store settles only once
// every record handed to it before is written; so a "stored" event with
// keys: n means those n keys survive a kill -9.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keeperArgs, peerConfig, startCli, startPeer } from './support/cli-processes.mjs';
import { startSignalingProcess } from './support/signaling-process.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'peercompute-keeper-'));
let rooms = 0;
const room = () => `keeper-${process.pid}-${rooms++}`;

describe('peercompute keep', () => {
  let server;
  before(async () => {
    server = await startSignalingProcess();
  });
  after(() => {
    server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const keeper = (r, dataDir, extra) => startCli(keeperArgs({ port: server.port, room: r, dataDir, extra }));

  it('outlives its peers: a peer writes and leaves, a new peer without storage gets every key from the keeper', async () => {
    const r = room();
    const k = keeper(r, join(scratch, 'outlives'));
    const ready = await k.event('ready');
    assert.equal(ready.keys, 0);
    await k.event('server', (e) => e.state === 'registered');

    const writer = startPeer();
    await writer.call('start', { config: peerConfig(server.port, r) });
    await writer.call('waitPeer', { peerId: ready.nodeId });
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    for (const key of keys) await writer.call('write', { key, value: { key, n: key.length } });
    await k.event('stored', (e) => e.keys === keys.length);
    assert.deepEqual(await writer.close(), { code: 0, signal: null }, 'the writer stops and exits');
    await k.event('peer-disconnected');

    const reader = startPeer();
    await reader.call('start', { config: peerConfig(server.port, r) });
    await reader.call('waitKeys', { keys });
    assert.deepEqual((await reader.call('keys')).sort(), [...keys].sort());
    assert.deepEqual(await reader.call('read', { key: 'key-3' }), { key: 'key-3', n: 5 });
    await reader.close();

    const { code } = await k.stop('SIGTERM');
    assert.equal(code, 0);
  });

  it('kill -9 after a write is stored: restarted on the same data dir, it gives a new peer that write', async () => {
    const r = room();
    const dataDir = join(scratch, 'kill-9');
    const first = keeper(r, dataDir);
    const ready = await first.event('ready');
    const writer = startPeer();
    await writer.call('start', { config: peerConfig(server.port, r) });
    await writer.call('waitPeer', { peerId: ready.nodeId });
    await writer.call('write', { key: 'survivor', value: 'written before the kill' });
    await first.event('stored', (e) => e.keys === 1);
    const killed = await first.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    await writer.close();

    const second = keeper(r, dataDir);
    const again = await second.event('ready');
    assert.equal(again.keys, 1, 'the write is back from disk');
    const reader = startPeer();
    await reader.call('start', { config: peerConfig(server.port, r) });
    await reader.call('waitKeys', { keys: ['survivor'] });
    assert.equal(await reader.call('read', { key: 'survivor' }), 'written before the kill');
    await reader.close();
    assert.equal((await second.stop('SIGINT')).code, 0);
  });

  for (const signal of ['SIGINT', 'SIGTERM']) {
    it(`${signal}: leaves the room, stores the state, exits 0, and the state is complete after a restart`, async () => {
      const r = room();
      const dataDir = join(scratch, `stop-${signal}`);
      const k = keeper(r, dataDir);
      const ready = await k.event('ready');
      const writer = startPeer();
      await writer.call('start', { config: peerConfig(server.port, r) });
      await writer.call('waitPeer', { peerId: ready.nodeId });
      const keys = Array.from({ length: 30 }, (_, i) => `s-${i}`);
      await Promise.all(keys.map((key, i) => writer.call('write', { key, value: i })));
      await k.event('stored', (e) => e.keys === keys.length);
      // More writes, and the stop right behind them: whatever of them the
      // keeper has when it stops is stored before it exits.
      await Promise.all(keys.map((key) => writer.call('write', { key: `late-${key}`, value: key })));
      const { code } = await k.stop(signal);
      assert.equal(code, 0, k.stderr);
      const stopping = k.lines.find((l) => l.event === 'stopping');
      const stopped = k.lines.find((l) => l.event === 'stopped');
      assert.equal(stopping.signal, signal);
      assert.ok(stopped, 'a stopped line');
      await writer.close();

      const restarted = keeper(r, dataDir);
      const back = await restarted.event('ready');
      assert.equal(back.keys, stopped.keys, 'every key the keeper had at the stop is back');
      assert.ok(back.keys >= keys.length);
      assert.equal((await restarted.stop()).code, 0);
    });
  }

  it('keeps a password room of a game: --password-file (its trailing newline dropped) and --game', async () => {
    const r = room();
    const passwordFile = join(scratch, 'password');
    writeFileSync(passwordFile, 'correct horse battery staple\n', { mode: 0o600 });
    const k = keeper(r, join(scratch, 'password-room'), ['--password-file', passwordFile, '--game', 'chess']);
    const ready = await k.event('ready');
    assert.equal(ready.gameId, 'chess');
    const peer = startPeer();
    await peer.call('start', { config: peerConfig(server.port, r, { gameId: 'chess', password: 'correct horse battery staple' }) });
    await peer.call('waitPeer', { peerId: ready.nodeId });
    const status = await peer.call('status');
    assert.equal(status.network.passwordProtected, true);
    await peer.call('write', { key: 'move', value: 'e4' });
    await k.event('stored', (e) => e.keys === 1);
    await peer.close();
    assert.equal((await k.stop()).code, 0);
  });

  it('a data dir held by a running keeper: a second keeper on it names the LOCK file, exits 1, and the first runs on', async () => {
    const r = room();
    const dataDir = join(scratch, 'locked');
    const first = keeper(r, dataDir);
    await first.event('ready');
    const second = startCli(keeperArgs({ port: server.port, room: r, dataDir }));
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(second.stderr, /--data-dir: peercompute: the state database .* is locked: its lock file .*\/LOCK is held by another process/);
    assert.ok(!second.lines.some((l) => l.event === 'ready'));
    assert.equal(first.child.exitCode, null, 'the first keeper still runs');
    assert.equal((await first.stop()).code, 0);
  });

  it("runs compute units for a peer's job: the keeper's id is in the job's unitsByPeer", async () => {
    const r = room();
    const k = keeper(r, join(scratch, 'compute'), ['--workers', '1']);
    const ready = await k.event('ready');
    assert.equal(ready.workers, 1);
    // The submitter runs no units itself, so every unit is the keeper's.
    const submitter = startPeer();
    await submitter.call('start', { config: peerConfig(server.port, r, { computeWorkers: 0 }) });
    await submitter.call('waitPeer', { peerId: ready.nodeId });
    const inputs = Array.from({ length: 8 }, (_, i) => ({ x0: -2 + i * 0.3, y0: -1, dx: 0.01, dy: 0.01, width: 24, height: 24, maxIter: 100 }));
    const { outputs, byPeer } = await submitter.call('submit', { task: 'mandelbrot', inputs, options: { redundancy: 1 } });
    assert.equal(outputs.length, inputs.length);
    assert.equal(byPeer[ready.nodeId], inputs.length, JSON.stringify(byPeer));
    await submitter.close();
    assert.equal((await k.stop()).code, 0);
    assert.equal(k.lines.find((l) => l.event === 'stopped').unitsDone, inputs.length, 'the keeper counts the units it ran');
  });
});
