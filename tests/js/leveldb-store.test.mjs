// Persistence on disk in Node.js: LevelDbStore (js-glue/storage/leveldb-store.js)
// on real LevelDB through classic-level, alone and under the public API with
// the dataDir option, including a writer process killed with SIGKILL and a
// data dir held by another process. Runs against the built dist/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createNode, NodeKernel } from '../../dist/peercompute.js';
import { LevelDbStore, loadClassicLevel } from '../../dist/storage/leveldb-store.js';

const root = mkdtempSync(join(tmpdir(), 'peercompute-leveldb-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `data-${++dirs}`);
const child = fileURLToPath(new URL('./support/leveldb-child.mjs', import.meta.url));

const bytes = (...values) => new Uint8Array(values);
const text = (record) => new TextDecoder().decode(record);

describe('LevelDbStore', () => {
  it('reads the records back in the order they were appended, across ticks, batches and a reopen', async () => {
    const dir = freshDir();
    let store = await LevelDbStore.open('order', dir);
    const expected = [];
    // 700 records: past 255 and 65535 would need more, but 256 already
    // crosses a byte boundary that a little-endian key would sort wrongly.
    for (let i = 0; i < 700; i++) {
      const record = new TextEncoder().encode(`record ${i} ${'y'.repeat(i % 37)}`);
      expected.push(text(record));
      store.append(record);
      if (i % 50 === 49) await store.whenStored(); // several batches, of different sizes
    }
    await store.whenStored();
    assert.deepEqual((await store.loadAll()).map(text), expected);

    // Reopened (the database closed and its lock released), it goes on after the last record.
    await store.close();
    store = await LevelDbStore.open('order', dir);
    store.append(new TextEncoder().encode('after reopen'));
    await store.whenStored();
    const all = (await store.loadAll()).map(text);
    assert.equal(all.length, 701);
    assert.deepEqual(all.slice(0, 700), expected);
    assert.equal(all[700], 'after reopen');
    for (const record of await store.loadAll()) assert.equal(Object.getPrototypeOf(record), Uint8Array.prototype);
    await store.close();
  });

  it('shares one open database among the stores of a room in this process, closing it with the last', async () => {
    const dir = freshDir();
    const first = await LevelDbStore.open('shared', dir);
    const second = LevelDbStore.open('shared', dir); // under way while the first closes
    await first.close();
    const store = await second;
    store.append(bytes(5));
    await store.whenStored();
    assert.deepEqual(await store.loadAll(), [bytes(5)], 'the database stayed open for the second');
    await store.close();
    const again = await LevelDbStore.open('shared', dir); // closed, then opened anew
    assert.deepEqual(await again.loadAll(), [bytes(5)]);
    await again.close();
  });

  it('copies what it is given: changing the bytes after append() changes nothing stored', async () => {
    const store = await LevelDbStore.open('copies', freshDir());
    const record = bytes(1, 2, 3);
    store.append(record);
    record[0] = 9;
    await store.whenStored();
    assert.deepEqual(await store.loadAll(), [bytes(1, 2, 3)]);
    await store.close();
  });

  it('compacts every record into one snapshot in one batch, keeping records appended meanwhile', async () => {
    const dir = freshDir();
    const store = await LevelDbStore.open('compact', dir);
    const other = await LevelDbStore.open('compact', dir); // another node of the room in this process
    for (const r of ['a', 'b', 'c']) store.append(new TextEncoder().encode(r));
    let seen = null;
    const compacted = store.compact((records) => {
      seen = records.map(text);
      // Appended while the compaction is under way: not in the snapshot, and not deleted by it.
      other.append(new TextEncoder().encode('late'));
      return new TextEncoder().encode(`snapshot of ${seen.join('+')}`);
    });
    await compacted;
    await other.whenStored();
    assert.deepEqual(seen, ['a', 'b', 'c'], 'merge gets every record, in order');
    const after = (await store.loadAll()).map(text);
    assert.equal(after.filter((r) => r.startsWith('snapshot')).length, 1, 'one snapshot');
    assert.deepEqual(after.slice().sort(), ['late', 'snapshot of a+b+c']);

    // Compacting again folds the late record in too.
    await store.compact((records) => new TextEncoder().encode(records.map(text).join('|')));
    assert.deepEqual((await store.loadAll()).map(text), [after.join('|')]);
    store.append(bytes(7));
    await store.whenStored();
    assert.equal((await store.loadAll()).length, 2, 'the log goes on after the snapshot');
    await store.clear();
    assert.deepEqual(await store.loadAll(), []);
    await other.close();
    await store.close();
  });

  it('gives each room a safe directory of its own', async () => {
    const rooms = ['demo', 'Demo', '../../etc', 'a/b', 'a_b', '', '日本語', JSON.stringify(['game', 'room']), 'r'.repeat(1024), 'r'.repeat(1023) + 's'];
    const names = await Promise.all(rooms.map((room) => LevelDbStore.directoryName(room)));
    for (const name of names) {
      assert.match(name, /^[A-Za-z0-9_-]{1,48}-[0-9a-f]{16}$/);
      assert.ok(name.length <= 65, name);
    }
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, rooms.length, 'distinct, even on a case-insensitive file system');
    assert.equal(names[0], await LevelDbStore.directoryName('demo'), 'stable');
    assert.match(names[7], /^game_room-/, 'readable');
  });

  it('names the package to install when classic-level is missing', async () => {
    const missing = (name) => import(`${name}-not-installed-${Date.now()}`); // fails in Node's resolver, as a missing package does
    const dir = freshDir();
    await assert.rejects(LevelDbStore.open('no-package', dir, { importPackage: missing }), (error) => {
      assert.match(error.message, /classic-level, which is not installed\. Install it beside peercompute: npm i classic-level$/);
      assert.equal(error.cause.code, 'ERR_MODULE_NOT_FOUND');
      return true;
    });
    assert.deepEqual(readdirSync(root).filter((d) => d === `data-${dirs}`), [], 'nothing was created');
    const broken = async () => {
      throw new Error('No native build was found for platform=plan9');
    };
    await assert.rejects(loadClassicLevel(broken), /classic-level, which could not be loaded \(No native build was found for platform=plan9\)\. Reinstall it: npm i classic-level$/);
    assert.equal(typeof (await loadClassicLevel()), 'function', 'the real one loads');
  });
});

describe('the dataDir option', () => {
  it('restores the state before initialize() resolves', async () => {
    const dataDir = freshDir();
    const first = await createNode({ roomId: 'restore', dataDir });
    assert.equal(first.getStatus().state.hasPersistence, true);
    assert.equal(first.getStatus().state.persistenceError, null);
    const state = first.getStateManager();
    await state.write('greeting', { text: 'hello', n: 1 });
    await state.batchWrite({ a: 1, b: [1, 2, 3] });
    await state.delete('a');
    await first.stop();

    const second = new NodeKernel({ roomId: 'restore', dataDir });
    let atInitialized = null;
    second.on('initialized', () => (atInitialized = second.getStateManager().read('greeting')));
    await second.initialize();
    const back = second.getStateManager();
    assert.deepEqual(back.read('greeting'), { text: 'hello', n: 1 });
    assert.deepEqual(back.read('b'), [1, 2, 3]);
    assert.equal(back.has('a'), false, 'the delete is stored too');
    assert.deepEqual(atInitialized, { text: 'hello', n: 1 }, 'the state was there when initialized fired');

    // Another room under the same dataDir is another database.
    const elsewhere = await createNode({ roomId: 'restore-other', dataDir });
    assert.deepEqual(elsewhere.getStateManager().keys(), []);
    assert.equal(readdirSync(dataDir).length, 2);
  });

  it('compacts a log past the threshold into a snapshot that restores every key', async () => {
    const dataDir = freshDir();
    const node = await createNode({ roomId: 'compaction', dataDir });
    const state = node.getStateManager();
    const big = 'z'.repeat(100 * 1024);
    // 24 overwrites of 100 KiB: 2.4 MiB of records for a state of 100 KiB,
    // past the kernel's threshold (1 MiB and twice the state).
    for (let i = 0; i < 24; i++) await state.batchWrite({ big: `${i}:${big}`, [`key${i}`]: i });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the compaction runs after the write that triggered it
    const store = await LevelDbStore.open('compaction', dataDir); // the same open database, shared in this process
    const records = await store.loadAll();
    assert.ok(records.length < 24, `compacted: ${records.length} records for 24 writes`);
    const restored = await createNode({ roomId: 'compaction', dataDir });
    const back = restored.getStateManager();
    assert.equal(back.read('big'), `23:${big}`);
    for (let i = 0; i < 24; i++) assert.equal(back.read(`key${i}`), i);
  });

  it('keeps a write whose promise resolved through kill -9 of the process, compactions included', async () => {
    const dataDir = freshDir();
    const writer = spawn(process.execPath, [child, 'write', dataDir, 'killed'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    writer.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => writer.on('exit', (code, signal) => resolve({ code, signal })));
    // The last batch whose promise had resolved when the kill was sent.
    const lastStored = await new Promise((resolve, reject) => {
      let buffer = '';
      let last = -1;
      writer.stdout.on('data', (chunk) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop();
        for (const line of lines) {
          last = Number(/^stored (\d+)$/.exec(line)?.[1] ?? NaN);
          if (last >= 150) {
            writer.kill('SIGKILL'); // mid-write: the loop never pauses
            resolve(last);
            return;
          }
        }
      });
      exited.then(({ code }) => reject(new Error(`the writer exited (${code}) before the kill: ${stderr}`)));
    });
    assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });

    const node = await createNode({ roomId: 'killed', dataDir });
    const state = node.getStateManager();
    assert.ok(state.read('counter') >= lastStored, `counter ${state.read('counter')} >= ${lastStored}`);
    for (let i = 0; i <= lastStored; i++) assert.ok(state.read(`k${i}`)?.startsWith(`${i}:`), `k${i} survived`);
    const store = await LevelDbStore.open('killed', dataDir);
    assert.ok((await store.loadAll()).length < lastStored, 'the writer compacted its log on the way');
  });

  it('fails to open a data dir that another process holds, naming the lock and the directory', async () => {
    const dataDir = freshDir();
    const holder = spawn(process.execPath, [child, 'hold', dataDir, 'held'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve, reject) => {
        holder.stdout.on('data', (d) => String(d).includes('ready') && resolve());
        holder.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
      });
      const location = join(dataDir, await LevelDbStore.directoryName('held'));
      await assert.rejects(createNode({ roomId: 'held', dataDir }), (error) => {
        assert.equal(error.code, 'PEERCOMPUTE_DATA_DIR_LOCKED');
        assert.ok(error.message.includes(`the state database ${location} is locked: its lock file ${location}/LOCK is held by another process`), error.message);
        assert.equal(error.cause.cause.code, 'LEVEL_LOCKED');
        return true;
      });
      // Another room under the same dataDir is not held.
      await createNode({ roomId: 'held-not', dataDir });
    } finally {
      holder.kill('SIGKILL');
    }
    // Once the holder is gone, the lock is free.
    await new Promise((resolve) => holder.exitCode !== null || holder.signalCode !== null ? resolve() : holder.on('exit', resolve));
    assert.equal((await createNode({ roomId: 'held', dataDir })).getStatus().state.hasPersistence, true);
  });

  it('refuses a bad dataDir, naming the option', () => {
    for (const dataDir of [42, '', 'a\0b', {}, ['dir']]) {
      assert.throws(() => new NodeKernel({ dataDir }), /^TypeError: config\.dataDir: must be null or a directory path/, String(dataDir));
    }
    assert.throws(() => new NodeKernel({ dataDir: freshDir(), enablePersistence: false }), /^TypeError: config\.dataDir: is set but enablePersistence is false/);
    globalThis.window = {}; // as in a browser
    try {
      assert.throws(() => new NodeKernel({ dataDir: freshDir() }), /^TypeError: config\.dataDir: applies only in Node\.js; in a browser the state is kept in IndexedDB/);
    } finally {
      delete globalThis.window;
    }
    assert.equal(new NodeKernel({ dataDir: 'relative/dir' }).config.dataDir, 'relative/dir');
    assert.equal(new NodeKernel({}).config.dataDir, null);
  });

  it('without dataDir, a Node node keeps its state in memory and its status says why', async () => {
    const node = await createNode({ roomId: 'memory' });
    const { hasPersistence, persistenceError } = node.getStatus().state;
    assert.equal(hasPersistence, false);
    assert.match(persistenceError, /dataDir option/);
    assert.equal((await createNode({ roomId: 'memory', enablePersistence: false })).getStatus().state.persistenceError, null);
  });
});
