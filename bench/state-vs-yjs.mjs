#!/usr/bin/env node
// PeerCompute's replicated state against Yjs (npm 'yjs', Y.Map), in headless
// Chromium.
//
//   npm run bench:state                 (same as: node bench/state-vs-yjs.mjs)
//   node bench/state-vs-yjs.mjs --trials=5 --n=100000 --replicas=1540 --sync-n=100000 [--only=rw,b3,sync,size]
//
// 1. rw    n writes of numbers to distinct keys, then n reads
// 2. b3    crdt-benchmarks' [B3.1]: 20*floor(sqrt(6000)) = 1540 replicas each
//          set key 'v' concurrently: update bytes and merge time (1540 real
//          nodes in one page, state.encodeStateAsUpdate / applyUpdate)
// 3. sync  a fresh replica catches up with a replica holding sync-n keys: in
//          one page with encodeStateAsUpdate + applyUpdate (the compared
//          figure), and between two tabs over WebRTC (secondary)
// 4. size  gzipped size of what a page loads
//
// Our nodes are created with enablePersistence: false (Yjs has no
// persistence here); rows marked PERSISTENCE ON use the library's default.
//
// Starts scripts/serve.mjs on a free port, serves a copy of dist/ taken at
// the start (so a concurrent rebuild cannot interfere), and yjs and lib0 from
// node_modules through Playwright routing (with an import map written into
// bench/state-vs-yjs.html), prints a table of medians and writes
// bench/results/state-vs-yjs.json. Each measurement runs in a freshly loaded
// page; trials alternate ours and Yjs. Exits non-zero only on errors; a missed
// target is reported, not failed.
import { call, launchChromium, openBenchPage, waitForBench } from './support/browser.mjs';
import { reportProfile, startProfiling, stopProfiling } from './support/cpu-profile.mjs';
import { bytes as fmtB, msShort as fmtMs, ratio as fmtRatio, rule } from './support/format.mjs';
import { ensureBuilt, root } from './support/project.mjs';
import { newRunId, round, roundStats, saveResults } from './support/results.mjs';
import { startServer } from './support/static-server.mjs';
import { summary } from './support/statistics.mjs';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

const resultsFile = join(root, 'bench', 'results', 'state-vs-yjs.json');
const PAGE = '/bench/state-vs-yjs.html';
// The independent codec of PROTOCOL.md's state frames that the page's B3
// cross-checks use; it lives with the conformance test that checks the
// library against it, and is served to the page from there (scripts/serve.mjs
// serves bench/, not tests/).
const CONFORMANCE_DIR = '/tests/js/conformance/';

// Published Yjs figures from dmonad/crdt-benchmarks' README (N = 6000,
// Node.js on an Intel i5 laptop).
const PUBLISHED_B3 = { name: '[B3.1] 20√N clients concurrently set number in Map', bytes: 49_169, timeMs: 75 };
const PUBLISHED_YJS_GZIP = 'about 20 KB (crdt-benchmarks, minified bundle)';

const SECTIONS = ['rw', 'b3', 'sync', 'size'];

function parseArgs(argv) {
  const options = { trials: 5, n: 100_000, replicas: 1540, syncN: 100_000, only: [...SECTIONS], profile: false };
  for (const arg of argv) {
    if (arg === '--profile') {
      options.profile = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: node bench/state-vs-yjs.mjs [--trials=5] [--n=100000] [--replicas=1540] [--sync-n=100000] [--only=rw,b3,sync,size] [--profile]\n' +
          '  --profile: one untimed run of each write/read kind and of each in-page sync under the CPU profiler, by function',
      );
      process.exit(0);
    }
    let m = /^--(trials|n|replicas|sync-n)=(\d+)$/.exec(arg);
    if (m) {
      options[m[1] === 'sync-n' ? 'syncN' : m[1]] = Number(m[2]);
      continue;
    }
    m = /^--only=([a-z0-9,]+)$/.exec(arg);
    if (m) {
      options.only = m[1].split(',');
      for (const s of options.only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s} (${SECTIONS.join(', ')})`);
      continue;
    }
    throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (options.trials < 1 || options.n < 1 || options.replicas < 2 || options.syncN < 1) {
    throw new Error('--trials, --n and --sync-n must be >= 1 and --replicas >= 2');
  }
  return options;
}

// ---- statistics -------------------------------------------------------------------

// A measurement's trials for the JSON: the summary and every value, to 3 decimals.
const stats = (values) => ({ ...roundStats(summary(values), 3), values: values.map((v) => round(v, 3)) });

// ---- yjs and lib0 from node_modules ------------------------------------------------------

// The packages the page may load from node_modules: yjs and what it imports.
const SERVED_PACKAGES = ['yjs', 'lib0', 'isomorphic.js'];
const CONDITIONS = ['browser', 'import', 'module', 'default'];

function pickTarget(target) {
  if (target === null || target === undefined) return null;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = pickTarget(t);
      if (r) return r;
    }
    return null;
  }
  for (const condition of CONDITIONS) {
    if (condition in target) {
      const r = pickTarget(target[condition]);
      if (r) return r;
    }
  }
  return null;
}

// An import map entry for every ES module a package exports, resolved with
// the conditions a browser bundler would use.
function packageImports(name) {
  const dir = join(root, 'node_modules', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  let exportsField = pkg.exports ?? { '.': pkg.module ?? pkg.main ?? './index.js' };
  if (typeof exportsField === 'string' || !Object.keys(exportsField).some((k) => k.startsWith('.'))) {
    exportsField = { '.': exportsField };
  }
  const imports = {};
  for (const [subpath, target] of Object.entries(exportsField)) {
    if (subpath.includes('*')) continue;
    const file = pickTarget(target);
    if (!file || !/\.m?js$/.test(file)) continue;
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    imports[specifier] = `/node_modules/${name}/${file.replace(/^\.\//, '')}`;
  }
  return { version: pkg.version, imports };
}

function buildImportMap() {
  const imports = {};
  const versions = {};
  for (const name of SERVED_PACKAGES) {
    if (!existsSync(join(root, 'node_modules', name, 'package.json'))) {
      throw new Error(`node_modules/${name} is missing: run npm install (yjs is a devDependency)`);
    }
    const p = packageImports(name);
    Object.assign(imports, p.imports);
    versions[name] = p.version;
  }
  return { importMap: { imports }, versions };
}

// Maps a /node_modules/<package>/... URL path to a file, or null.
function nodeModulesFile(urlPath) {
  const m = /^\/node_modules\/([^/]+)\/(.+)$/.exec(urlPath);
  if (!m || !SERVED_PACKAGES.includes(m[1])) return null;
  const dir = join(root, 'node_modules', m[1]);
  const file = normalize(join(dir, m[2]));
  return file.startsWith(dir + sep) && existsSync(file) && statSync(file).isFile() ? file : null;
}

// Maps a URL path under CONFORMANCE_DIR to a .js file there, or null.
function conformanceFile(urlPath) {
  const dir = join(root, ...CONFORMANCE_DIR.split('/').filter(Boolean));
  const file = normalize(join(root, urlPath));
  return file.startsWith(dir + sep) && file.endsWith('.js') && existsSync(file) && statSync(file).isFile() ? file : null;
}

// ---- 4. sizes ----------------------------------------------------------------------------

const gzipSize = (buffer) => gzipSync(buffer, { level: 9 }).length;

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

// The static import graph of an ES module, resolving bare specifiers with the
// page's import map: the files a browser actually fetches.
function moduleGraph(entryFile, importMap) {
  const seen = new Set();
  const pending = [entryFile];
  const staticImport = /(?:^|[;\n}])\s*(?:import|export)\s*(?:[\w*${},\s]+?\s*from\s*)?['"]([^'"\n]+)['"]/g;
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(staticImport)) {
      const spec = m[1];
      let target;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        target = resolve(dirname(file), spec);
      } else if (importMap.imports[spec]) {
        target = join(root, importMap.imports[spec]);
      } else {
        throw new Error(`size: cannot resolve '${spec}' imported by ${relative(root, file)}`);
      }
      pending.push(target);
    }
  }
  return [...seen];
}

// dist/ as it was when the run started: the pages load the package from this
// copy (through Playwright routing), so a rebuild of dist/ by something else
// during a run cannot mix two builds or take the server down mid-file.
function snapshotDist() {
  const dist = join(root, 'dist');
  const files = new Map();
  for (const file of listFiles(dist)) files.set(relative(root, file).split(sep).join('/'), readFileSync(file));
  const wasm = [...files.keys()].find((f) => f.endsWith('.wasm'));
  if (!wasm || !files.has('dist/peercompute.js')) throw new Error('dist/ is incomplete (being rebuilt?); run scripts/build.sh and retry');
  const sha256 = wasm ? createHash('sha256').update(files.get(wasm)).digest('hex').slice(0, 16) : null;
  return { files, wasmSha256: sha256 };
}

function measureSizes(importMap, snapshot) {
  const files = [...snapshot.files.keys()].map((f) => join(root, f));
  const contents = (f) => snapshot.files.get(relative(root, f).split(sep).join('/')) ?? readFileSync(f);
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  const js = files.filter((f) => extname(f) === '.js');
  const sizeOf = (list) => list.reduce((s, f) => s + gzipSize(contents(f)), 0);
  const rawOf = (list) => list.reduce((s, f) => s + contents(f).length, 0);
  const yjsEntry = join(root, 'node_modules', 'yjs', 'dist', 'yjs.mjs');
  const graph = moduleGraph(yjsEntry, importMap);
  const lib0 = graph.filter((f) => f !== yjsEntry);
  return {
    method: 'each file gzipped on its own with zlib level 9, sizes summed',
    ours: {
      wasmGzip: sizeOf(wasm),
      jsGzip: sizeOf(js),
      totalGzip: sizeOf(wasm) + sizeOf(js),
      wasmRaw: rawOf(wasm),
      jsRaw: rawOf(js),
      files: [...wasm, ...js].map((f) => relative(root, f)),
    },
    yjs: {
      yjsMjsGzip: gzipSize(readFileSync(yjsEntry)),
      yjsMjsRaw: statSync(yjsEntry).size,
      withImportsGzip: sizeOf(graph),
      withImportsRaw: rawOf(graph),
      importedFiles: lib0.map((f) => relative(root, f)),
    },
  };
}

// ---- pages --------------------------------------------------------------------------------

// A fresh heap for every measurement: the library cannot free a kernel.
async function reload(page) {
  await page.reload();
  await waitForBench(page);
}

// ---- 1. writes and reads -------------------------------------------------------------------

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

// ---- 2. B3 -----------------------------------------------------------------------------------

async function benchB3(page, options, log) {
  const yjs = [];
  const ours = [];
  for (let t = 0; t < options.trials; t++) {
    const runYjs = async () => {
      await reload(page);
      yjs.push(await call(page, 'b3Yjs', options.replicas));
    };
    const runOurs = async () => {
      await reload(page);
      ours.push(await call(page, 'b3Ours', options.replicas));
    };
    if (t % 2 === 1) {
      await runOurs();
      await runYjs();
    } else {
      await runYjs();
      await runOurs();
    }
    const y = yjs[yjs.length - 1];
    const o = ours[ours.length - 1];
    log(
      `  b3 trial ${t + 1}/${options.trials}: yjs ${y.bytesV2Events} B (v2 events) / ${y.bytesV1State} B (v1 state), ` +
        `merge ${y.mergeV2Ms.toFixed(1)} ms (v2 into replica 1) / ${y.mergeV1FreshMs.toFixed(1)} ms (v1 into a fresh doc); ` +
        `ours ${o.bytes} B (analytic ${o.analyticBytes} B), merge ${o.mergeMs.toFixed(1)} ms, re-apply ${o.reapplyMs.toFixed(1)} ms ` +
        `(${o.replicas} nodes created in ${o.createMs.toFixed(0)} ms, encode ${o.encodeMs.toFixed(1)} ms)`,
    );
  }
  const pick = (list, key) => stats(list.map((r) => r[key]));
  return {
    yjs: Object.fromEntries(['bytesV2Events', 'bytesV1Events', 'bytesV1State', 'mergeV2Ms', 'mergeV1FreshMs'].map((k) => [k, pick(yjs, k)])),
    ours: {
      ...Object.fromEntries(
        ['bytes', 'analyticBytes', 'wireBytes', 'mergeMs', 'reapplyMs', 'createMs', 'writeMs', 'encodeMs', 'changes'].map((k) => [k, pick(ours, k)]),
      ),
      updateBytes: { min: Math.min(...ours.map((r) => r.minUpdate)), max: Math.max(...ours.map((r) => r.maxUpdate)) },
    },
  };
}

// ---- 3. sync ----------------------------------------------------------------------------------

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

// ---- output -----------------------------------------------------------------------------------

function printTable(rows) {
  const headers = ['measurement', 'ours (median)', 'Yjs (median)', 'Yjs/ours'];
  const cells = rows.map((r) => (r.note ? null : [r.label, r.ours, r.yjs, r.ratio]));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.filter(Boolean).map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  rows.forEach((r, i) => console.log(r.note ? `  ${r.note}` : line(cells[i])));
}

function row(label, ours, yjs, kind) {
  const ratio = Number.isFinite(ours) && Number.isFinite(yjs) && ours > 0 ? yjs / ours : NaN;
  const fmt = kind === 'bytes' ? fmtB : fmtMs;
  return { label, ours: fmt(ours), yjs: fmt(yjs), ratio: fmtRatio(ratio), value: ratio };
}

const note = (text) => ({ note: text });
const verdict = (ok) => (ok ? 'met' : 'missed');

// ---- main -------------------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2));
  ensureBuilt();
  const snapshot = snapshotDist();
  const runId = newRunId();
  const { importMap, versions } = buildImportMap();
  const problems = [];
  const results = {
    benchmark: 'state-vs-yjs',
    date: new Date().toISOString(),
    runId,
    options,
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      yjs: versions.yjs,
      lib0: versions.lib0,
      wasmSha256: snapshot.wasmSha256,
    },
  };
  const rows = [];
  const targets = [];
  const log = (text) => console.log(text);

  let server = null;
  let browser = null;
  try {
    const needBrowser = options.only.some((s) => s !== 'size');
    if (needBrowser) {
      server = await startServer(root, PAGE);
      browser = await launchChromium();
      const context = await browser.newContext();
      const mapJson = JSON.stringify(importMap);
      await context.route(`${server.base}/**`, async (route) => {
        const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
        const path = new URL(route.request().url()).pathname;
        if (path.startsWith('/node_modules/')) {
          const file = nodeModulesFile(path);
          if (!file) return route.fulfill({ status: 404, body: `not served: ${path}` });
          return route.fulfill({
            status: 200,
            body: await readFile(file),
            headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', ...isolation },
          });
        }
        if (path.startsWith(CONFORMANCE_DIR)) {
          const file = conformanceFile(path);
          if (!file) return route.fulfill({ status: 404, body: `not served: ${path}` });
          return route.fulfill({
            status: 200,
            body: await readFile(file),
            headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', ...isolation },
          });
        }
        if (path.startsWith('/dist/')) {
          const body = snapshot.files.get(path.slice(1));
          if (!body) return route.fulfill({ status: 404, body: `not in the dist/ snapshot: ${path}` });
          const type = path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
          return route.fulfill({ status: 200, body, headers: { 'content-type': type, 'cache-control': 'no-store', ...isolation } });
        }
        let response;
        try {
          response = await route.fetch();
        } catch (error) {
          problems.push(`server: ${path}: ${error.message.split('\n')[0]}`);
          return route.abort();
        }
        if (path === PAGE) {
          const html = (await response.text()).replace(
            /<script type="importmap">[\s\S]*?<\/script>/,
            `<script type="importmap">${mapJson}</script>`,
          );
          return route.fulfill({ response, body: html, headers: { ...response.headers(), ...isolation } });
        }
        return route.fulfill({ response, headers: { ...response.headers(), ...isolation } });
      });
      const a = await openBenchPage(context, server.base, 'A', problems, PAGE);
      const b = await openBenchPage(context, server.base, 'B', problems, PAGE);
      const libraryVersion = await a.evaluate(() => window.bench.version);
      Object.assign(results.environment, {
        chromium: browser.version(),
        peercompute: libraryVersion,
        crossOriginIsolated: await a.evaluate(() => globalThis.crossOriginIsolated === true),
      });
      console.log(
        `PeerCompute ${libraryVersion} (wasm sha256 ${snapshot.wasmSha256}…, dist/ snapshot) vs Yjs ${versions.yjs} (lib0 ${versions.lib0}) — Chromium ${browser.version()}, ` +
          `node ${process.version}, ${options.trials} trials per measurement alternating ours/Yjs, run ${runId}`,
      );

      if (options.only.includes('rw')) {
        console.log(`\n1. ${options.n.toLocaleString('en-US')} writes to distinct keys, then as many reads`);
        const rw = await benchWriteRead(a, options, log);
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

      if (options.only.includes('b3')) {
        console.log(`\n2. ${PUBLISHED_B3.name}: ${options.replicas} replicas each set 'v'`);
        const b3 = await benchB3(a, options, log);
        results.b3 = { ...b3, publishedYjs: PUBLISHED_B3 };
        rows.push(note(`2. ${PUBLISHED_B3.name}, ${options.replicas} replicas (crdt-benchmarks: 20*floor(sqrt(6000)))`));
        // Yjs's B3 figure is the sum of its 'update' events: what a provider
        // sends peers. Ours is the frame a node sends its peers for the write
        // (an OwnUpdate, header included).
        const bytes = row('update bytes sent to peers vs updateV2 events', b3.ours.wireBytes.median, b3.yjs.bytesV2Events.median, 'bytes');
        rows.push(bytes);
        const bytesV1 = row('update bytes sent to peers vs V1 update events', b3.ours.wireBytes.median, b3.yjs.bytesV1Events.median, 'bytes');
        rows.push(bytesV1);
        rows.push(row('ref: encodeStateAsUpdate (names its writer) vs V1', b3.ours.bytes.median, b3.yjs.bytesV1State.median, 'bytes'));
        rows.push(row('ref: analytic encodeStateAsUpdate (PROTOCOL.md) vs V1', b3.ours.analyticBytes.median, b3.yjs.bytesV1State.median, 'bytes'));
        if (options.replicas === 1540) {
          rows.push(row('ref: update bytes sent vs published Yjs (V2)', b3.ours.wireBytes.median, PUBLISHED_B3.bytes, 'bytes'));
        }
        const merge = row('merge: applyUpdate x n into a fresh node vs V1', b3.ours.mergeMs.median, b3.yjs.mergeV1FreshMs.median);
        rows.push(merge);
        rows.push(row('ref: merge vs crdt-benchmarks (V2, replica 1)', b3.ours.mergeMs.median, b3.yjs.mergeV2Ms.median));
        rows.push(row('ref: ours re-apply all, no state change', b3.ours.reapplyMs.median, NaN));
        rows.push(row('ref: published Yjs merge (i5, Node)', NaN, PUBLISHED_B3.timeMs));
        rows.push(row('ref: ours creating the replica nodes', b3.ours.createMs.median, NaN));
        rows.push(
          note(
            `ours: ${options.replicas} real nodes in one page (enablePersistence: false); each node's write is read from its ` +
              `state.encodeStateAsUpdate() (${b3.ours.updateBytes.min}-${b3.ours.updateBytes.max} B), which re-encodes byte for byte ` +
              'with tests/js/conformance/state-wire.js; the bytes sent to peers are that write as the OwnUpdate frame the codec ' +
              'encodes (e2e/wire-frames.spec.js checks it against a real tab\'s frame); the merged node holds the winner the merge rule picks',
          ),
        );
        targets.push({ name: 'B3 update bytes <= Yjs (updateV2, as crdt-benchmarks measures)', value: bytes.value, met: bytes.value >= 1 });
        targets.push({ name: 'B3 update bytes <= Yjs (V1, the encoding Yjs providers send by default)', value: bytesV1.value, met: bytesV1.value >= 1 });
        targets.push({ name: '(not a target) B3 merge time <= Yjs (V1 into a fresh doc)', value: merge.value, met: merge.value >= 1, info: true });
      }

      if (options.only.includes('sync')) {
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
      await b.close();
      await a.close();
    }

    if (options.only.includes('size')) {
      const sizes = measureSizes(importMap, snapshot);
      results.size = sizes;
      rows.push(note(`4. gzipped size (zlib level 9, each file on its own, summed)`));
      const total = row('dist/ wasm + all .js vs yjs.mjs', sizes.ours.totalGzip, sizes.yjs.yjsMjsGzip, 'bytes');
      rows.push(total);
      rows.push(row('ref: dist/ vs yjs.mjs + lib0 it imports', sizes.ours.totalGzip, sizes.yjs.withImportsGzip, 'bytes'));
      rows.push(row('ref: wasm only vs yjs.mjs', sizes.ours.wasmGzip, sizes.yjs.yjsMjsGzip, 'bytes'));
      rows.push(row('ref: js only vs yjs.mjs', sizes.ours.jsGzip, sizes.yjs.yjsMjsGzip, 'bytes'));
      rows.push(
        note(
          `Yjs published: ${PUBLISHED_YJS_GZIP}; yjs.mjs and lib0 here are unminified ESM (${sizes.yjs.importedFiles.length} lib0/` +
            `isomorphic.js files), dist/ is unminified JS + a release wasm (${sizes.ours.wasmRaw.toLocaleString('en-US')} B raw)`,
        ),
      );
    }

    const line = rule(110);
    console.log(`\n${line}\nPeerCompute replicated state vs Yjs — medians of ${options.trials} trials; Yjs/ours > 1 means ours is faster/smaller\n${line}`);
    printTable(rows);
    console.log(line);
    if (targets.length === 0) console.log('(no targets in the sections run)');
    for (const t of targets) {
      console.log(`${t.info ? 'info' : 'target'}: ${t.name}: Yjs/ours = ${fmtRatio(t.value)} -> ${verdict(t.met)}${'aim' in t ? ` (aim 2: ${verdict(t.aim)})` : ''}`);
    }
    console.log(line);

    results.table = rows.map((r) => (r.note ? { note: r.note } : { measurement: r.label, ours: r.ours, yjs: r.yjs, yjsOverOurs: round(r.value, 4) }));
    results.targets = targets.map((t) => ({ ...t, value: round(t.value, 4) }));
    results.problems = problems;
    await saveResults(resultsFile, results, problems);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error?.stack ?? error}`);
  process.exitCode = 1;
});
