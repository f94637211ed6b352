// 3. sync: a fresh replica catches up with a replica holding options.syncN
// keys: in one page (encodeStateAsUpdate + applyUpdate, the compared figure),
// between two tabs over WebRTC, and the same bytes over a bare data channel.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../support/browser.mjs';
import { reportProfile, startProfiling, stopProfiling } from '../support/cpu-profile.mjs';
import { root } from '../support/project.mjs';
import { reload } from './pages.mjs';
import { note, row, stats } from './report.mjs';

async function benchSync(a, b, options, runId, log) {
  if (options.profile) {
    const dir = join(root, 'bench', 'results', 'profiles');
    for (const [label, fn] of [['sync-ours-local', 'syncOursLocal'], ['sync-yjs', 'syncYjs']]) {
      await reload(a);
      const session = await startProfiling(a);
      const run = await call(a, fn, options.syncN);
      console.log(`\n${label} under the profiler (untimed): ${run.totalMs.toFixed(1)} ms`);
      reportProfile(label, await stopProfiling(session), dir, 25);
    }
  }
  const yjs = [];
  const ours = []; // two tabs, over the network
  const local = []; // one page, encodeStateAsUpdate + applyUpdate
  const localPersist = []; // the same, B with enablePersistence: true
  for (let t = 0; t < options.trials; t++) {
    const runYjs = async () => {
      await reload(a);
      yjs.push(await call(a, 'syncYjs', options.syncN));
    };
    const runLocal = async () => {
      await reload(a);
      local.push(await call(a, 'syncOursLocal', options.syncN));
      await reload(a);
      localPersist.push(await call(a, 'syncOursLocal', options.syncN, { persistB: true }));
    };
    const runOurs = async () => {
      await Promise.all([reload(a), reload(b)]);
      const room = `bench-sync-${runId}-${t}`;
      const seed = await call(a, 'syncSeed', room, options.syncN);
      await sleep(200);
      await call(b, 'syncPrepare', room, options.syncN);
      const r = await call(b, 'syncRun', seed.nodeId, 120_000);
      await Promise.all([call(a, 'stopNode'), call(b, 'stopNode')]);
      // Where the time went: long main-thread tasks in each tab between B's
      // start() and the last key (cross-tab times use the shared clock).
      const busy = async (page) => (await call(page, 'longTasks', r.t0, r.doneAt)).reduce((s, t) => s + t.duration, 0);
      const [busyA, busyB] = await Promise.all([busy(a), busy(b)]);
      ours.push({
        totalMs: r.doneAt - r.t0,
        connectMs: r.connectedAt - r.t0,
        afterConnectMs: r.doneAt - r.connectedAt,
        connectToFirstChangeMs: r.firstChangeAt - r.connectedAt,
        changeEventsMs: r.doneAt - r.firstChangeAt,
        longTasksAMs: busyA,
        longTasksBMs: busyB,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        framesIn: r.framesIn,
        seedWriteMs: seed.writeMs,
      });
    };
    if (t % 2 === 1) {
      await runLocal();
      await runYjs();
      await runOurs();
    } else {
      await runYjs();
      await runLocal();
      await runOurs();
    }
    const y = yjs[yjs.length - 1];
    const o = ours[ours.length - 1];
    const l = local[local.length - 1];
    const lp = localPersist[localPersist.length - 1];
    // Transport floor: ours' received bytes and Yjs's update bytes over a bare
    // data channel between the same two tabs, in 64 KiB messages.
    await Promise.all([reload(a), reload(b)]);
    await call(b, 'rawListen', `bench-raw-${runId}-${t}`);
    await Promise.all([call(a, 'rawOffer', `bench-raw-${runId}-${t}`), call(b, 'rawWaitOpen')]);
    const transfer = async (bytes) => {
      await call(b, 'rawArm', bytes);
      const t0 = await call(a, 'rawSend', bytes, 64 * 1024);
      return (await call(b, 'rawWait', 120_000)) - t0;
    };
    if (t % 2 === 1) {
      o.rawTransferMs = await transfer(o.bytesIn);
      y.rawTransferMs = await transfer(y.bytes);
    } else {
      y.rawTransferMs = await transfer(y.bytes);
      o.rawTransferMs = await transfer(o.bytesIn);
    }
    await Promise.all([call(a, 'rawClose'), call(b, 'rawClose')]);
    y.plusTransferMs = y.totalMs + y.rawTransferMs;
    log(
      `  sync trial ${t + 1}/${options.trials}: in one page: yjs ${y.totalMs.toFixed(1)} ms (encode ${y.encodeMs.toFixed(1)} + ` +
        `apply ${y.applyMs.toFixed(1)}), ${y.bytes} B; ours ${l.totalMs.toFixed(1)} ms (encode ${l.encodeMs.toFixed(1)} + ` +
        `apply ${l.applyMs.toFixed(1)}), ${l.bytes} B; ours into a persistent node ${lp.totalMs.toFixed(1)} ms`,
    );
    log(
      `  sync trial ${t + 1}/${options.trials}, two tabs: ours ${o.totalMs.toFixed(1)} ms ` +
        `(connect ${o.connectMs.toFixed(1)} ms, then ${o.connectToFirstChangeMs.toFixed(1)} ms to the first key, ` +
        `${o.changeEventsMs.toFixed(1)} ms of change events; long tasks A ${o.longTasksAMs.toFixed(0)} ms, ` +
        `B ${o.longTasksBMs.toFixed(0)} ms), ${o.bytesIn} B in ${o.framesIn} frames; ` +
        `over a bare data channel: ours' bytes ${o.rawTransferMs.toFixed(1)} ms, Yjs's ${y.rawTransferMs.toFixed(1)} ms`,
    );
  }
  const pick = (list, key) => stats(list.map((r) => r[key]));
  const localKeys = ['totalMs', 'encodeMs', 'applyMs', 'bytes', 'seedWriteMs', 'deltaBytes'];
  return {
    local: Object.fromEntries(localKeys.map((k) => [k, pick(local, k)])),
    localPersist: Object.fromEntries(localKeys.map((k) => [k, pick(localPersist, k)])),
    yjs: {
      totalMs: stats(yjs.map((r) => r.totalMs)),
      encodeMs: stats(yjs.map((r) => r.encodeMs)),
      applyMs: stats(yjs.map((r) => r.applyMs)),
      bytes: stats(yjs.map((r) => r.bytes)),
      totalV2Ms: stats(yjs.map((r) => r.totalV2Ms)),
      bytesV2: stats(yjs.map((r) => r.bytesV2)),
      rawTransferMs: stats(yjs.map((r) => r.rawTransferMs)),
      plusTransferMs: stats(yjs.map((r) => r.plusTransferMs)),
    },
    ours: {
      totalMs: stats(ours.map((r) => r.totalMs)),
      connectMs: stats(ours.map((r) => r.connectMs)),
      afterConnectMs: stats(ours.map((r) => r.afterConnectMs)),
      connectToFirstChangeMs: stats(ours.map((r) => r.connectToFirstChangeMs)),
      changeEventsMs: stats(ours.map((r) => r.changeEventsMs)),
      longTasksAMs: stats(ours.map((r) => r.longTasksAMs)),
      longTasksBMs: stats(ours.map((r) => r.longTasksBMs)),
      rawTransferMs: stats(ours.map((r) => r.rawTransferMs)),
      bytesIn: stats(ours.map((r) => r.bytesIn)),
      framesIn: stats(ours.map((r) => r.framesIn)),
      seedWriteMs: stats(ours.map((r) => r.seedWriteMs)),
    },
  };
}

// Runs the section in the pages a and b, and adds its results, rows and targets.
export async function syncSection(a, b, options, runId, { log, results, rows, targets }) {
  console.log(`\n3. sync a ${options.syncN.toLocaleString('en-US')}-key state to a fresh replica`);
  const sync = await benchSync(a, b, options, runId, log);
  results.sync = sync;
  rows.push(note(`3. sync ${options.syncN.toLocaleString('en-US')} keys to a fresh replica (enablePersistence: false unless said)`));
  const time = row('time: encodeStateAsUpdate+applyUpdate', sync.local.totalMs.median, sync.yjs.totalMs.median);
  rows.push(time);
  rows.push(row('ref: encode part', sync.local.encodeMs.median, sync.yjs.encodeMs.median));
  rows.push(row('ref: apply part (+ count of keys)', sync.local.applyMs.median, sync.yjs.applyMs.median));
  rows.push(row('ref: vs Yjs V2 encode+apply', sync.local.totalMs.median, sync.yjs.totalV2Ms.median));
  rows.push(row('ref: PERSISTENCE ON (B): encode+apply', sync.localPersist.totalMs.median, sync.yjs.totalMs.median));
  const bytes = row('bytes: update length', sync.local.bytes.median, sync.yjs.bytes.median, 'bytes');
  rows.push(bytes);
  rows.push(row('ref: bytes vs Yjs V2 update', sync.local.bytes.median, sync.yjs.bytesV2.median, 'bytes'));
  rows.push(
    note(
      'in one page: ours = A.encodeStateAsUpdate() + B.applyUpdate() + B.keys().length (B created before the clock); ' +
        'Yjs = Y.encodeStateAsUpdate + Y.applyUpdate into a new Y.Doc + its map size',
    ),
  );
  rows.push(note('secondary: over the network, two tabs (B: start() until its subscribe(\'*\') saw every key)'));
  const net = row('ref: two tabs start()->all keys vs encode+apply', sync.ours.totalMs.median, sync.yjs.totalMs.median);
  rows.push(net);
  const afterConnect = row('ref: two tabs minus connect (peer-connected)', sync.ours.afterConnectMs.median, sync.yjs.totalMs.median);
  rows.push(afterConnect);
  rows.push(row('ref: two tabs connect part', sync.ours.connectMs.median, NaN));
  rows.push(row('ref: two tabs peer-connected -> first key', sync.ours.connectToFirstChangeMs.median, NaN));
  rows.push(row('ref: two tabs first key -> last key (events)', sync.ours.changeEventsMs.median, NaN));
  rows.push(row('ref: two tabs long tasks in A (sender)', sync.ours.longTasksAMs.median, NaN));
  rows.push(row('ref: two tabs long tasks in B (receiver)', sync.ours.longTasksBMs.median, NaN));
  rows.push(row('ref: each one\'s bytes over a bare channel', sync.ours.rawTransferMs.median, sync.yjs.rawTransferMs.median));
  const withTransfer = row('ref: two tabs vs Yjs + bare transfer', sync.ours.totalMs.median, sync.yjs.plusTransferMs.median);
  rows.push(withTransfer);
  rows.push(row('ref: two tabs bytes received by B vs update', sync.ours.bytesIn.median, sync.yjs.bytes.median, 'bytes'));
  rows.push(
    note(
      'two tabs: includes discovery, WebRTC setup and the data-channel transfer (bytes: all frames B received, ' +
        'Hello/Sync/Ping included); Yjs is in one page, no transport',
    ),
  );
  targets.push({ name: 'sync update bytes <= Yjs (V1 encodeStateAsUpdate)', value: bytes.value, met: bytes.value >= 1 });
  targets.push({ name: 'sync time <= Yjs (encode+apply, one page)', value: time.value, met: time.value >= 1 });
  targets.push({ name: '(not a target) two-tab sync time <= Yjs encode+apply', value: net.value, met: net.value >= 1, info: true });
  targets.push({
    name: '(not a target) two-tab sync time <= Yjs encode+apply + its bytes over a bare channel',
    value: withTransfer.value,
    met: withTransfer.value >= 1,
    info: true,
  });
}
