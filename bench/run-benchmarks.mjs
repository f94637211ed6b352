#!/usr/bin/env node
// PeerCompute browser benchmarks: connect time and application round trip
// against a raw RTCDataChannel, two tabs of one headless Chromium.
//
//   npm run bench                      (same as: node bench/run-benchmarks.mjs)
//   node bench/run-benchmarks.mjs --trials=5 --rounds=5 --n=500 --warmup=50 --pad=32 [--binary]
//
// --binary makes the raw echo send Uint8Array (UTF-8 of the same JSON text)
// instead of a string; the library always sends bytes.
//
// Starts scripts/serve.mjs on a free port, opens bench/connect-rtt.html in two
// pages of one browser context, prints a summary and writes
// bench/results/connect-rtt.json. Exits non-zero only on errors; a missed
// target is reported, not failed.
import { saveResults } from './support/results.mjs';
import { startServer } from './support/static-server.mjs';
import { chromium } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(root, 'bench', 'results', 'connect-rtt.json');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const RATIO_TARGET = 1.5;

function parseArgs(argv) {
  const options = { trials: 5, rounds: 5, n: 500, warmup: 50, pad: 32, binary: false };
  for (const arg of argv) {
    if (arg === '--binary') {
      options.binary = true;
      continue;
    }
    const m = /^--(trials|rounds|n|warmup|pad)=(\d+)$/.exec(arg);
    if (!m) {
      if (arg === '--help' || arg === '-h') {
        console.log('usage: node bench/run-benchmarks.mjs [--trials=5] [--rounds=5] [--n=500] [--warmup=50] [--pad=32] [--binary]');
        process.exit(0);
      }
      throw new Error(`unknown argument ${arg} (try --help)`);
    }
    options[m[1]] = Number(m[2]);
  }
  if (options.trials < 1 || options.rounds < 1 || options.n < 1) throw new Error('--trials, --rounds and --n must be >= 1');
  return options;
}

// ---- statistics ----------------------------------------------------------------

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

const ms = (v, digits = 3) => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a');
const round = (v, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

// ---- server --------------------------------------------------------------------


function ensureBuilt() {
  if (existsSync(join(root, 'dist', 'peercompute.js')) && existsSync(join(root, 'dist', 'peercompute-core.wasm'))) return;
  console.log('dist/ is missing; building with scripts/build.sh ...');
  const r = spawnSync('bash', [join(root, 'scripts', 'build.sh')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/build.sh failed');
}

// ---- benchmark steps -----------------------------------------------------------

async function openBenchPage(context, base, label, problems) {
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`[${label}] page error: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`[${label}] console ${msg.type()}: ${msg.text()}`);
  });
  await page.goto(`${base}/bench/connect-rtt.html`);
  await page.waitForFunction(() => window.bench?.ready === true, null, { timeout: 15_000 });
  return page;
}

const call = (page, fn, ...args) =>
  page.evaluate(([name, list]) => window.bench[name](...list), [fn, args]);

async function clockOffset(a, b, runId) {
  // offset = clock(A) - clock(B), measured from B.
  const name = `bench-clock-${runId}`;
  await call(a, 'clockServe', name);
  const best = await call(b, 'clockMeasure', name, 30);
  return { offsetMs: best.offset, uncertaintyMs: best.rtt / 2 };
}

// One library connect trial in a fresh room. A is started first; t0 is taken
// in B right before B's start(); both tabs record 'peer-connected'.
async function libraryConnectTrial(a, b, room) {
  const idA = await call(a, 'createNode', room);
  const idB = await call(b, 'createNode', room);
  await call(a, 'startNode');
  await new Promise((r) => setTimeout(r, 250)); // let A's own start settle
  const { t0 } = await call(b, 'startNode');
  const [atB, atA] = await Promise.all([call(b, 'waitConnected', idA, 15_000), call(a, 'waitConnected', idB, 15_000)]);
  if (!(await call(b, 'connectedPeerIds')).includes(idA)) {
    throw new Error(`library connect: tab B raised peer-connected but does not list ${idA} as connected`);
  }
  return {
    room,
    idA,
    idB,
    startingTab: 'B',
    startingTabMs: atB - t0,
    otherTabMs: atA - t0,
    bothMs: Math.max(atA, atB) - t0,
  };
}

// One raw RTCPeerConnection connect: B listens, A creates the connection and
// offers; t0 is taken in A before new RTCPeerConnection(); done when the data
// channel is open in both tabs.
async function rawConnectTrial(a, b, name) {
  await call(b, 'rawListen', name);
  const { t0, openAt } = await call(a, 'rawOffer', name, 15_000);
  const openB = await call(b, 'rawWaitOpen', 15_000);
  return { offeringTabMs: openAt - t0, otherTabMs: openB - t0, bothMs: Math.max(openAt, openB) - t0 };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  ensureBuilt();
  const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const problems = [];
  let server = null;
  let browser = null;
  try {
    server = await startServer(root, '/bench/connect-rtt.html');
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    // Cross-origin isolation (COOP + COEP on every response) raises the
    // resolution of performance.now() from 100 us to 5 us, which a sub-
    // millisecond round trip needs. The headers are added here rather than in
    // scripts/serve.mjs so the demo server stays as it is.
    await context.route(`${server.base}/**`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({
        response,
        headers: {
          ...response.headers(),
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        },
      });
    });
    const a = await openBenchPage(context, server.base, 'A', problems);
    const b = await openBenchPage(context, server.base, 'B', problems);
    const libraryVersion = await a.evaluate(() => window.bench.version);
    const isolated = await a.evaluate(() => globalThis.crossOriginIsolated === true);
    if (!isolated) console.warn('warning: the bench pages are not cross-origin isolated; performance.now() is coarse (100 us)');
    console.log(
      `PeerCompute ${libraryVersion} bench — Chromium ${browser.version()}, node ${process.version}, ` +
        `server ${server.base}, run ${runId}`,
    );
    console.log(
      `options: ${options.trials} connect trials; ${options.rounds} rounds x ${options.n} round trips ` +
        `(+${options.warmup} warm-up) per side, pad ${options.pad} chars, raw payload as ${options.binary ? 'Uint8Array' : 'string'}`,
    );

    const clock = await clockOffset(a, b, runId);
    console.log(`cross-tab clock check: clock(A) - clock(B) = ${ms(clock.offsetMs)} ± ${ms(clock.uncertaintyMs)}`);

    // a. connect time. The very first connection in a fresh tab also pays for
    // bringing up WebRTC in that renderer; it is measured once, reported on its
    // own line and kept out of the median. Then library and raw reference
    // trials alternate, each in a fresh room / on a fresh pair.
    const cold = await libraryConnectTrial(a, b, `bench-connect-${runId}-cold`);
    console.log(`  cold connect (first WebRTC connection in both fresh tabs, not in the median): ${ms(cold.bothMs, 1)}`);
    await rawConnectTrial(a, b, `bench-raw-connect-${runId}-warmup`);
    await Promise.all([call(a, 'rawClose'), call(b, 'rawClose')]);

    const libraryTrials = [];
    const rawConnectTrials = [];
    for (let i = 0; i < options.trials; i++) {
      const rawFirst = i % 2 === 1;
      let rawTrial = null;
      if (rawFirst) rawTrial = await rawConnectTrial(a, b, `bench-raw-connect-${runId}-${i}`);
      const lib = await libraryConnectTrial(a, b, `bench-connect-${runId}-${i}`);
      if (!rawFirst) rawTrial = await rawConnectTrial(a, b, `bench-raw-connect-${runId}-${i}`);
      await Promise.all([call(a, 'rawClose'), call(b, 'rawClose')]);
      libraryTrials.push(lib);
      rawConnectTrials.push(rawTrial);
      console.log(
        `  connect trial ${i + 1}/${options.trials}: library both ${ms(lib.bothMs, 1)} ` +
          `(starting tab ${ms(lib.startingTabMs, 1)}, other tab ${ms(lib.otherTabMs, 1)}); ` +
          `raw RTCPeerConnection both ${ms(rawTrial.bothMs, 1)}`,
      );
    }
    const connect = summarize(libraryTrials.map((t) => t.bothMs));
    const connectStartingTab = summarize(libraryTrials.map((t) => t.startingTabMs));
    const rawConnect = summarize(rawConnectTrials.map((t) => t.bothMs));

    // b. round trips between the same two pages: the library pair from the
    // last connect trial, plus a fresh raw pair.
    const last = libraryTrials[libraryTrials.length - 1];
    await call(b, 'installResponder');
    await call(b, 'rawListen', `bench-raw-rtt-${runId}`);
    await call(a, 'rawOffer', `bench-raw-rtt-${runId}`, 15_000);
    await call(b, 'rawWaitOpen', 15_000);
    const pad = 'x'.repeat(options.pad);
    const payloadBytes = Buffer.byteLength(await call(a, 'pingText', options.warmup + options.n, pad));

    const rounds = [];
    const librarySamples = [];
    const rawSamples = [];
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? ['library', 'raw'] : ['raw', 'library'];
      const result = { round: r + 1, order };
      for (const kind of order) {
        const samples =
          kind === 'library'
            ? await call(a, 'libraryRoundTrips', last.idB, options.n, options.warmup, pad)
            : await call(a, 'rawRoundTrips', options.n, options.warmup, pad, options.binary);
        (kind === 'library' ? librarySamples : rawSamples).push(...samples);
        result[kind] = summarize(samples);
      }
      result.ratio = result.library.median / result.raw.median;
      rounds.push(result);
      console.log(
        `  rtt round ${r + 1}/${options.rounds} (${order.join(' then ')}): library median ${ms(result.library.median)}, ` +
          `raw median ${ms(result.raw.median)}, ratio ${result.ratio.toFixed(2)}`,
      );
    }
    const libraryRtt = summarize(librarySamples);
    const rawRtt = summarize(rawSamples);
    const ratio = libraryRtt.median / rawRtt.median;
    const roundRatios = summarize(rounds.map((x) => x.ratio));
    const targetMet = ratio <= RATIO_TARGET;

    const stillConnected = await call(a, 'connectedPeerIds');
    if (!stillConnected.includes(last.idB)) throw new Error('the library pair disconnected during the round-trip test');

    await Promise.all([call(a, 'rawClose'), call(b, 'rawClose'), call(a, 'stopNode'), call(b, 'stopNode')]);

    // ---- summary ----
    const line = '-'.repeat(100);
    console.log(`\n${line}`);
    console.log('PeerCompute connect / round-trip benchmark (2 tabs, one Chromium context)');
    console.log(line);
    console.log(
      `connect time (start -> peer-connected in both tabs, 2 tabs): median ${ms(connect.median, 1)} ` +
        `(min ${ms(connect.min, 1)}, max ${ms(connect.max, 1)}, n=${connect.n})`,
    );
    console.log(
      `  cold: first connection in fresh tabs (not in the median):   ${ms(cold.bothMs, 1)}`,
    );
    console.log(
      `  starting tab only (same-tab clock):                        median ${ms(connectStartingTab.median, 1)} ` +
        `(min ${ms(connectStartingTab.min, 1)}, max ${ms(connectStartingTab.max, 1)})`,
    );
    console.log(
      `  reference: raw RTCPeerConnection + data channel open:      median ${ms(rawConnect.median, 1)} ` +
        `(min ${ms(rawConnect.min, 1)}, max ${ms(rawConnect.max, 1)}, n=${rawConnect.n})`,
    );
    console.log(
      `round trip, sendToPeer+reply: median ${ms(libraryRtt.median)}   raw RTCDataChannel echo: median ${ms(rawRtt.median)}   ` +
        `ratio Y/Z = ${ratio.toFixed(2)} (target <= ${RATIO_TARGET}) -> ${targetMet ? 'target met' : 'target missed'}`,
    );
    console.log(
      `  library p10/p90 ${ms(libraryRtt.p10)} / ${ms(libraryRtt.p90)};  raw p10/p90 ${ms(rawRtt.p10)} / ${ms(rawRtt.p90)};  ` +
        `n=${libraryRtt.n} each (${options.rounds} alternating rounds x ${options.n}), payload ${payloadBytes} B of JSON`,
    );
    console.log(
      `  per-round ratios: ${rounds.map((x) => x.ratio.toFixed(2)).join(', ')} (median ${roundRatios.median.toFixed(2)})`,
    );
    console.log(line);

    const results = {
      benchmark: 'connect-rtt',
      date: new Date().toISOString(),
      runId,
      environment: {
        chromium: browser.version(),
        node: process.version,
        peercompute: libraryVersion,
        platform: `${process.platform} ${process.arch}`,
        crossOriginIsolated: isolated,
      },
      options: { ...options, payloadBytes },
      clockCheck: { offsetAminusBMs: round(clock.offsetMs), uncertaintyMs: round(clock.uncertaintyMs) },
      connect: {
        description: "library: clock() in tab B just before B's start() (A already started) to 'peer-connected' in both tabs",
        bothTabsMs: mapStats(connect),
        startingTabMs: mapStats(connectStartingTab),
        coldFirstConnectMs: round(cold.bothMs),
        trials: libraryTrials.map((t) => ({
          startingTabMs: round(t.startingTabMs),
          otherTabMs: round(t.otherTabMs),
          bothMs: round(t.bothMs),
        })),
        rawReference: {
          description: "raw: clock() in tab A before new RTCPeerConnection() to the data channel's 'open' in both tabs",
          bothTabsMs: mapStats(rawConnect),
          trials: rawConnectTrials.map((t) => ({
            offeringTabMs: round(t.offeringTabMs),
            otherTabMs: round(t.otherTabMs),
            bothMs: round(t.bothMs),
          })),
        },
      },
      roundTrip: {
        description: 'sequential round trips measured in tab A with performance.now(); warm-up excluded',
        libraryMs: mapStats(libraryRtt),
        rawMs: mapStats(rawRtt),
        ratio: round(ratio),
        ratioTarget: RATIO_TARGET,
        targetMet,
        perRoundRatioMedian: round(roundRatios.median),
        rounds: rounds.map((x) => ({
          round: x.round,
          order: x.order,
          libraryMedianMs: round(x.library.median),
          rawMedianMs: round(x.raw.median),
          ratio: round(x.ratio),
        })),
      },
      problems,
    };
    await saveResults(resultsFile, results, problems);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
  }
}

function mapStats(s) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round(v)]));
}

main().catch((error) => {
  console.error(`bench failed: ${error?.stack ?? error}`);
  process.exitCode = 1;
});
