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
//
// The parts are in bench/state/: one module a section (write-read, b3, sync,
// sizes), the pages' serving (pages), the command line (options) and the
// table (report). The page is bench/state-vs-yjs.js, its parts in
// bench/state/page/.
import { launchChromium, openBenchPage } from './support/browser.mjs';
import { ensureBuilt, root } from './support/project.mjs';
import { newRunId, saveResults } from './support/results.mjs';
import { startServer } from './support/static-server.mjs';
import { b3Section } from './state/b3.mjs';
import { parseArgs } from './state/options.mjs';
import { buildImportMap, PAGE, routeBenchPages, snapshotDist } from './state/pages.mjs';
import { addSummary, printSummary } from './state/report.mjs';
import { sizeSection } from './state/sizes.mjs';
import { syncSection } from './state/sync.mjs';
import { writeReadSection } from './state/write-read.mjs';
import { join } from 'node:path';

const resultsFile = join(root, 'bench', 'results', 'state-vs-yjs.json');

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
      await routeBenchPages(context, server.base, { importMap, snapshot, problems });
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

      const out = { log, results, rows, targets };
      if (options.only.includes('rw')) await writeReadSection(a, options, out);
      if (options.only.includes('b3')) await b3Section(a, options, out);
      if (options.only.includes('sync')) await syncSection(a, b, options, runId, out);
      await b.close();
      await a.close();
    }

    if (options.only.includes('size')) sizeSection(importMap, snapshot, { results, rows });

    printSummary(rows, targets, options.trials);
    addSummary(results, rows, targets);
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
