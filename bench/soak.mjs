#!/usr/bin/env node
// Soak test: one pair of nodes, in two browser contexts (no shared
// BroadcastChannel), connected through a PeerJS signaling server this script
// starts, stays idle (no application traffic) for SOAK_MINUTES. Every
// SOAK_INTERVAL_S it records both sides' connected peers, the kernel's
// keepalive RTT and the byte counters; at the end it prints whether the pair
// stayed connected throughout, every connect/disconnect event, and the
// min/median/max RTT, and writes bench/results/soak.json.
//
//   npm run bench:soak                          (same as: node bench/soak.mjs; 10 minutes)
//   SOAK_MINUTES=1 node bench/soak.mjs          (SOAK_INTERVAL_S=30 by default)
//
// Exits 1 if the pair did not stay connected (or on an error), else 0.
import { browserEnvironment, call, launchChromium, openBenchPage } from './support/browser.mjs';
import { ms as fmtMs, rule } from './support/format.mjs';
import { ensureBuilt, root } from './support/project.mjs';
import { newRunId, saveResults } from './support/results.mjs';
import { startBenchSignalingServer } from './support/signaling.mjs';
import { startServer } from './support/static-server.mjs';
import { summary } from './support/statistics.mjs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const resultsFile = join(root, 'bench', 'results', 'soak.json');

function positiveEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

const ms = (v) => fmtMs(v, 2);

// One side's view of the other in a snapshot.
function sideView(snapshot, otherId) {
  const peer = snapshot?.peers.find((p) => p.peerId === otherId) ?? null;
  const connectedIds = (snapshot?.peers ?? []).filter((p) => p.state === 'connected').map((p) => p.peerId);
  return {
    connectedIds,
    connectedToOther: peer?.state === 'connected',
    state: peer?.state ?? 'unknown',
    rttMs: peer?.rttMs ?? null,
    bytesIn: peer?.bytesIn ?? null,
    bytesOut: peer?.bytesOut ?? null,
    messagesIn: peer?.messagesIn ?? null,
    messagesOut: peer?.messagesOut ?? null,
    signalingServer: snapshot?.signalingServer ?? null,
  };
}

async function main() {
  const minutes = positiveEnv('SOAK_MINUTES', 10);
  const intervalS = positiveEnv('SOAK_INTERVAL_S', 30);
  ensureBuilt();
  const runId = newRunId();
  const problems = [];
  let server = null;
  let signaling = null;
  let browser = null;
  let stayed = false;
  try {
    server = await startServer(root, '/bench/connect-rtt.html');
    signaling = await startBenchSignalingServer();
    browser = await launchChromium();
    // Two contexts: they share no BroadcastChannel, so the only way the
    // nodes can meet is the signaling server.
    const a = await openBenchPage(await browser.newContext(), server.base, 'A', problems);
    const b = await openBenchPage(await browser.newContext(), server.base, 'B', problems);
    const version = await a.evaluate(() => window.bench.version);
    const room = `bench-soak-${runId}`;
    const nodeOptions = { peerServer: signaling.peerServer };
    console.log(
      `PeerCompute ${version} soak — Chromium ${browser.version()}, node ${process.version}, server ${server.base}, ` +
        `signaling ws://127.0.0.1:${signaling.port}/peerjs, room ${room}`,
    );
    console.log(`idle for ${minutes} min, a sample every ${intervalS} s`);

    const idA = await call(a, 'createNode', room, nodeOptions);
    const idB = await call(b, 'createNode', room, nodeOptions);
    await call(a, 'startNode');
    await sleep(250);
    const { t0 } = await call(b, 'startNode');
    const [atB, atA] = await Promise.all([call(b, 'waitConnected', idA, 30_000), call(a, 'waitConnected', idB, 30_000)]);
    const connectMs = Math.max(atA, atB) - t0;
    console.log(`connected: ${idA} (A) <-> ${idB} (B) in ${ms(connectMs)} through the signaling server`);

    const startedAt = Date.now();
    const endAt = startedAt + minutes * 60_000;
    const samples = [];
    for (let i = 0; ; i++) {
      const [snapA, snapB] = await Promise.all([call(a, 'peerSnapshot'), call(b, 'peerSnapshot')]);
      const sample = { index: i, elapsedS: (Date.now() - startedAt) / 1000, A: sideView(snapA, idB), B: sideView(snapB, idA) };
      samples.push(sample);
      const side = (v) =>
        `${v.connectedToOther ? 'connected' : `NOT connected (${v.state})`}, peers [${v.connectedIds.join(', ')}], ` +
        `rtt ${ms(v.rttMs)}, in ${v.bytesIn} B / out ${v.bytesOut} B, server ${v.signalingServer}`;
      console.log(`  t=${sample.elapsedS.toFixed(0).padStart(4)} s  A: ${side(sample.A)}`);
      console.log(`  ${' '.repeat(9)}B: ${side(sample.B)}`);
      const remaining = endAt - Date.now();
      if (remaining <= 0) break;
      await sleep(Math.min(intervalS * 1000, remaining));
    }

    const [eventsA, eventsB] = await Promise.all([call(a, 'nodeEvents'), call(b, 'nodeEvents')]);
    const events = [
      ...eventsA.map((e) => ({ side: 'A', ...e })),
      ...eventsB.map((e) => ({ side: 'B', ...e })),
    ].sort((x, y) => x.at - y.at);
    const disconnects = events.filter((e) => e.type === 'peer-disconnected');
    const reconnects = events.filter((e) => e.type === 'peer-connected').length - 2; // beyond the first one on each side
    const allSamplesConnected = samples.every(
      (s) => s.A.connectedToOther && s.B.connectedToOther && s.A.connectedIds.length === 1 && s.B.connectedIds.length === 1,
    );
    stayed = allSamplesConnected && disconnects.length === 0 && reconnects === 0;
    const rtt = summary(samples.flatMap((s) => [s.A.rttMs, s.B.rttMs]));
    const rttA = summary(samples.map((s) => s.A.rttMs));
    const rttB = summary(samples.map((s) => s.B.rttMs));
    const first = samples[0];
    const last = samples[samples.length - 1];
    const spanS = last.elapsedS - first.elapsedS;
    const rate = (side, field) => (spanS > 0 ? (last[side][field] - first[side][field]) / spanS : NaN);

    await Promise.all([call(a, 'stopNode'), call(b, 'stopNode')]);

    const line = rule();
    console.log(`\n${line}`);
    console.log(`PeerCompute soak: one idle pair through the PeerJS signaling server, 2 browser contexts, ${minutes} min`);
    console.log(line);
    console.log(
      `stayed connected throughout: ${stayed ? 'YES' : 'NO'} ` +
        `(${samples.length} samples every ${intervalS} s over ${last.elapsedS.toFixed(0)} s; connect took ${ms(connectMs)})`,
    );
    if (disconnects.length === 0) console.log('disconnect events: none');
    else {
      console.log(`disconnect events: ${disconnects.length}`);
      for (const e of disconnects) {
        console.log(`  ${e.side}: ${e.peerId} at t=${((e.at - t0) / 1000).toFixed(1)} s (reason ${e.reason ?? 'n/a'})`);
      }
    }
    if (reconnects > 0) console.log(`reconnections (peer-connected after the first): ${reconnects}`);
    if (!allSamplesConnected) console.log('samples where either side was not connected to exactly the other: see bench/results/soak.json');
    console.log(
      `keepalive RTT (kernel ping, both sides): min ${ms(rtt.min)}, median ${ms(rtt.median)}, max ${ms(rtt.max)} (n=${rtt.n}); ` +
        `A median ${ms(rttA.median)}, B median ${ms(rttB.median)}`,
    );
    console.log(
      `bytes while idle: A in ${last.A.bytesIn} / out ${last.A.bytesOut} B, B in ${last.B.bytesIn} / out ${last.B.bytesOut} B; ` +
        `rate A out ${rate('A', 'bytesOut').toFixed(1)} B/s, B out ${rate('B', 'bytesOut').toFixed(1)} B/s`,
    );
    console.log(line);

    await saveResults(
      resultsFile,
      {
        benchmark: 'soak',
        date: new Date().toISOString(),
        runId,
        environment: browserEnvironment(browser, version),
        options: { minutes, intervalS, signalingPort: signaling.port },
        room,
        nodes: { A: idA, B: idB },
        connectMs,
        stayedConnected: stayed,
        allSamplesConnected,
        disconnects,
        reconnects,
        events,
        rttMs: { both: rtt, A: rttA, B: rttB },
        bytesPerSecondOut: { A: rate('A', 'bytesOut'), B: rate('B', 'bytesOut') },
        samples,
        problems,
      },
      problems,
    );
  } finally {
    await browser?.close().catch(() => {});
    await signaling?.close().catch(() => {});
    await server?.stop().catch(() => {});
  }
  return stayed;
}

// The PeerJS server keeps timers of its own running after close(), so the
// process is ended explicitly once everything is stopped.
main()
  .then((stayed) => {
    if (!stayed) process.exitCode = 1;
  })
  .catch((error) => {
    console.error(`soak failed: ${error?.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(() => process.exit());
