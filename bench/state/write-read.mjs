// 1. rw: n writes of numbers to distinct keys, then n reads, five ways (the
// page's writeRead kinds), each in a freshly loaded page.
import { join } from 'node:path';
import { call } from '../support/browser.mjs';
import { reportProfile, startProfiling, stopProfiling } from '../support/cpu-profile.mjs';
import { root } from '../support/project.mjs';
import { reload } from './pages.mjs';
import { note, row, stats } from './report.mjs';

const RW_KINDS = ['ours-write', 'yjs-plain', 'ours-batch', 'yjs-transact', 'ours-persist'];

async function benchWriteRead(page, options, log) {
  const runs = Object.fromEntries(RW_KINDS.map((k) => [k, []]));
  for (let t = 0; t < options.trials; t++) {
    const order = t % 2 === 0 ? RW_KINDS : [...RW_KINDS].reverse();
    for (const kind of order) {
      await reload(page);
      runs[kind].push(await call(page, 'writeRead', kind, options.n));
    }
    const last = (k) => runs[k][runs[k].length - 1];
    log(
      `  rw trial ${t + 1}/${options.trials}: ` +
        RW_KINDS.map((k) => `${k} ${last(k).writeMs.toFixed(1)}+${last(k).readMs.toFixed(1)} ms`).join(', '),
    );
  }
  if (options.profile) {
    const dir = join(root, 'bench', 'results', 'profiles');
    for (const kind of RW_KINDS.filter((k) => k !== 'ours-persist')) {
      await reload(page);
      const session = await startProfiling(page);
      const run = await call(page, 'writeRead', kind, options.n);
      console.log(`\n${kind} under the profiler (untimed): write ${run.writeMs.toFixed(1)} ms, read ${run.readMs.toFixed(1)} ms`);
      reportProfile(`state-${kind}`, await stopProfiling(session), dir);
    }
  }
  const summary = {};
  for (const k of RW_KINDS) {
    summary[k] = {
      writeMs: stats(runs[k].map((r) => r.writeMs)),
      readMs: stats(runs[k].map((r) => r.readMs)),
      totalMs: stats(runs[k].map((r) => r.totalMs)),
      durableMs: stats(runs[k].map((r) => r.durableMs ?? NaN)),
      flushMs: stats(runs[k].map((r) => r.flushMs ?? NaN)),
    };
  }
  return summary;
}

// Runs the section in `page`, and adds its results, rows and target.
export async function writeReadSection(page, options, { log, results, rows, targets }) {
  console.log(`\n1. ${options.n.toLocaleString('en-US')} writes to distinct keys, then as many reads`);
  const rw = await benchWriteRead(page, options, log);
  results.writeRead = rw;
  const ow = rw['ours-write'];
  const yp = rw['yjs-plain'];
  const ob = rw['ours-batch'];
  const yt = rw['yjs-transact'];
  const op = rw['ours-persist'];
  const n = options.n.toLocaleString('en-US');
  rows.push(note(`1. ${n} writes then ${n} reads (node not started, enablePersistence: false; Y.Doc without listeners)`));
  rows.push(row('write: state.write x n + flush() vs ymap.set', ow.writeMs.median, yp.writeMs.median));
  rows.push(row('  of which flush() (commit to the kernel)', ow.flushMs.median, NaN));
  rows.push(row('read: state.read vs ymap.get', ow.readMs.median, yp.readMs.median));
  const main = row('write+read', ow.totalMs.median, yp.totalMs.median);
  rows.push(main);
  rows.push(row('ref: write, state.write vs one transact()', ow.writeMs.median, yt.writeMs.median));
  rows.push(row('ref: write, batchWrite+flush vs ymap.set', ob.writeMs.median, yp.writeMs.median));
  rows.push(row('ref: write, batchWrite+flush vs transact()', ob.writeMs.median, yt.writeMs.median));
  rows.push(row('ref: write+read, batchWrite vs transact()', ob.totalMs.median, yt.totalMs.median));
  rows.push(row('ref: PERSISTENCE ON: write+flush vs ymap.set', op.writeMs.median, yp.writeMs.median));
  rows.push(row('ref: PERSISTENCE ON: write+read', op.totalMs.median, yp.totalMs.median));
  rows.push(row('ref: PERSISTENCE ON: until durable (IDB)', op.durableMs.median, NaN));
  rows.push(
    note(
      'ours: no write is awaited; flush() (the commit of all queued writes to the kernel) is inside the write time. ' +
        'PERSISTENCE ON rows: a node with enablePersistence: true (the default); Yjs has no persistence here',
    ),
  );
  targets.push({
    name: 'writes+reads at least as fast as Yjs (Yjs/ours >= 1; aim 2)',
    value: main.value,
    met: main.value >= 1,
    aim: main.value >= 2,
  });
}
