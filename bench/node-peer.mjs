// A Node.js peer and a Chromium tab, through the library against raw WebRTC
// between the same two endpoints, side by side in one run:
//
//   node bench/node-peer.mjs [--rounds=3] [--n=300] [--warmup=50] [--bulk-mb=16] [--chunk=16384] [--connects=200]
//
// - Round trip: the Node peer's sendToPeer + the tab's reply, against a raw
//   node-datachannel channel (its W3C polyfill) sending the same JSON text
//   to a raw RTCDataChannel in the same tab, which echoes it. Alternating
//   rounds, warm-up outside the timings; the ratio is library / raw.
// - Bulk: --bulk-mb MiB from Node to the tab in --chunk byte messages, both
//   sides under the same rule (no more than 1 MiB waiting to go, checked
//   before each send, polled each millisecond), timed until the tab reports
//   the byte count; the ratio is library throughput / raw throughput.
// - Handshakes: --connects times, a fresh Node node and a fresh tab node in a
//   fresh room meet through the PeerJS server and connect (10 s allowed),
//   then both stop. Target: at least 99.5% succeed.
// Needs node-datachannel (a devDependency) and Debian's Chromium.
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { launchChromium, newIsolatedContext, openBenchPage, call } from './support/browser.mjs';
import { ensureBuilt, root } from './support/project.mjs';
import { startServer } from './support/static-server.mjs';
import { startBenchSignalingServer } from './support/signaling.mjs';
import { median, quantile, sortedFinite } from './support/statistics.mjs';
import { ms, mbps, ratio, rule } from './support/format.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const ROUNDS = Number(args.rounds ?? 3);
const N = Number(args.n ?? 300);
const WARMUP = Number(args.warmup ?? 50);
const BULK_BYTES = Number(args['bulk-mb'] ?? 16) * 1024 * 1024;
const CHUNK = Number(args.chunk ?? 16384);
const CONNECTS = Number(args.connects ?? 200);
const MAX_WAITING = 1024 * 1024;
const RTT_TARGET = 1.15;
const BULK_TARGET = 0.9;
const HANDSHAKE_TARGET = 0.995;

ensureBuilt();
const { createNode } = await import(`${root}/dist/peercompute.js`);
const tick = () => new Promise((r) => setTimeout(r, 1));
const until = async (test, what, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const message = (seq) => ({ seq, t: 1234.5678, pad: 'x'.repeat(20) });

// Progress on stderr, and a watchdog: a phase that hangs is named, and the run fails.
let phase = 'starting';
const PHASE_LIMIT_MS = 10 * 60_000;
let phaseStarted = Date.now();
const progress = (what) => {
  phase = what;
  phaseStarted = Date.now();
  process.stderr.write(`[bench:node] ${what}\n`);
};
const watchdog = setInterval(() => {
  if (Date.now() - phaseStarted < PHASE_LIMIT_MS) return;
  console.error(`[bench:node] stuck for ${PHASE_LIMIT_MS / 60_000} min in: ${phase}`);
  process.exit(1);
}, 5000);
watchdog.unref();

const server = await startServer(root, '/bench/node-peer.html');
const signaling = await startBenchSignalingServer();
const browser = await launchChromium();
const problems = [];
try {
  const context = await newIsolatedContext(browser, server.base);
  progress('opening the tab');
  const page = await openBenchPage(context, server.base, 'tab', problems, '/bench/node-peer.html');
  progress('connecting the library nodes');

  // The library: a Node node and the tab's node in one room.
  const room = `node-bench-${Date.now()}`;
  const ours = await createNode({ roomId: room, enablePersistence: false, computeWorkers: 0, peerServer: signaling.peerServer });
  const network = ours.getNetworkManager();
  let answered = null;
  network.addMessageHandler((peerId, reply) => answered?.(reply));
  await ours.start();
  const tabId = await call(page, 'startNode', room, signaling.peerServer);
  await until(() => network.getConnectedPeers().some((p) => p.peerId === tabId), 'the library connection', 20_000);
  await until(() => call(page, 'connectedTo', ours.nodeId), 'the tab to see the Node peer');

  progress('connecting the raw pair');
  // The raw reference: node-datachannel's polyfill, offer and answer handed over directly.
  const pc = new RTCPeerConnection();
  const channel = pc.createDataChannel('raw');
  channel.binaryType = 'arraybuffer';
  let rawAnswered = null;
  channel.onmessage = ({ data }) => rawAnswered?.(data);
  await pc.setLocalDescription(await pc.createOffer());
  await until(() => pc.iceGatheringState === 'complete', 'ICE gathering');
  await pc.setRemoteDescription(await call(page, 'rawAnswer', { type: 'offer', sdp: pc.localDescription.sdp }));
  await until(() => channel.readyState === 'open', 'the raw channel');

  const libraryRoundTrip = (seq) =>
    new Promise((resolve) => {
      answered = resolve;
      network.sendToPeer(tabId, message(seq));
    });
  const rawRoundTrip = (seq) =>
    new Promise((resolve) => {
      rawAnswered = (data) => resolve(JSON.parse(data));
      channel.send(JSON.stringify(message(seq)));
    });
  const timeRoundTrips = async (roundTrip, count) => {
    const times = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const reply = await roundTrip(i);
      times.push(performance.now() - started);
      if (reply.seq !== i) throw new Error(`echo ${reply.seq} for ${i}`);
    }
    return times;
  };
  await timeRoundTrips(libraryRoundTrip, WARMUP);
  await timeRoundTrips(rawRoundTrip, WARMUP);
  const lib = [];
  const raw = [];
  const perRound = [];
  progress('round trips');
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['lib', 'raw'] : ['raw', 'lib'];
    const got = {};
    for (const which of order) got[which] = await timeRoundTrips(which === 'lib' ? libraryRoundTrip : rawRoundTrip, N);
    lib.push(...got.lib);
    raw.push(...got.raw);
    perRound.push(median(got.lib) / median(got.raw));
  }

  // Bulk, Node -> tab, the same chunks and the same waiting rule.
  const chunk = new Uint8Array(CHUNK); // first byte 0: counted
  const end = new Uint8Array([1]);
  const countOf = (bytes) => new Float64Array(new Uint8Array(bytes).slice().buffer)[0];
  const libraryBulk = async () => {
    const started = performance.now();
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) {
      while (network.queuedBytes(tabId) > MAX_WAITING) await tick();
      network.sendToPeer(tabId, chunk);
    }
    const count = await new Promise((resolve) => {
      answered = (reply) => resolve(countOf(reply));
      network.sendToPeer(tabId, end);
    });
    if (count !== BULK_BYTES) throw new Error(`the tab counted ${count} of ${BULK_BYTES} bytes`);
    return BULK_BYTES / ((performance.now() - started) / 1000);
  };
  const rawBulk = async () => {
    const started = performance.now();
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) {
      while (channel.bufferedAmount > MAX_WAITING) await tick();
      channel.send(chunk);
    }
    const count = await new Promise((resolve) => {
      rawAnswered = (reply) => resolve(countOf(reply));
      channel.send(end);
    });
    if (count !== BULK_BYTES) throw new Error(`the tab counted ${count} of ${BULK_BYTES} raw bytes`);
    return BULK_BYTES / ((performance.now() - started) / 1000);
  };
  progress('bulk');
  const bulk = { lib: [], raw: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const which of r % 2 === 0 ? ['lib', 'raw'] : ['raw', 'lib']) bulk[which].push(await (which === 'lib' ? libraryBulk() : rawBulk()));
  }
  channel.close();
  pc.close();
  await call(page, 'rawClose');
  await call(page, 'stopNode');
  await ours.stop();

  // Handshakes: fresh nodes in fresh rooms.
  progress(`handshakes (${CONNECTS})`);
  let connected = 0;
  const connectTimes = [];
  const failures = [];
  const pick = (network) => ({
    knownPeers: network.knownPeers,
    connectionStates: network.connectionStates,
    signaling: network.signalingServer && { state: network.signalingServer.state, lastError: network.signalingServer.lastError },
    rejectedSignals: network.rejectedSignals,
    shadowedSignals: network.shadowedSignals,
    lastRejection: network.lastRejection,
  });
  for (let i = 0; i < CONNECTS; i++) {
    const handshakeRoom = `${room}-h${i}`;
    if (i % 50 === 0) progress(`handshake ${i + 1} of ${CONNECTS}`);
    const node = await createNode({ roomId: handshakeRoom, enablePersistence: false, computeWorkers: 0, peerServer: signaling.peerServer });
    const started = performance.now();
    await node.start();
    const id = await call(page, 'startNode', handshakeRoom, signaling.peerServer);
    try {
      await until(() => node.getNetworkManager().getConnectedPeers().some((p) => p.peerId === id), 'a handshake', 10_000);
      connected++;
      connectTimes.push(performance.now() - started);
    } catch {
      // Counted as failed; say what each side saw, so a failure can be traced.
      const network = node.getStatus().network;
      const tab = await call(page, 'networkStatus');
      failures.push(`#${i} ${node.nodeId} <-> ${id}: Node ${JSON.stringify(pick(network))}; tab ${JSON.stringify(pick(tab))}`);
    }
    await call(page, 'stopNode');
    await node.stop();
  }

  const libMedian = median(lib);
  const rawMedian = median(raw);
  const rttRatio = libMedian / rawMedian;
  const p90Ratio = quantile(sortedFinite(lib), 0.9) / quantile(sortedFinite(raw), 0.9);
  const bulkRatio = median(bulk.lib) / median(bulk.raw);
  const rate = connected / CONNECTS;
  const verdict = (met) => (met ? 'met' : 'target missed');
  console.log(rule());
  console.log('A Node.js peer (node-datachannel) and a Chromium tab: the library against raw WebRTC between the same endpoints');
  console.log(rule());
  console.log(`round trip, Node sendToPeer + the tab's reply: median ${ms(libMedian)}   raw node-datachannel <-> RTCDataChannel echo: median ${ms(rawMedian)}`);
  console.log(`  ratio ${ratio(rttRatio)} (target <= ${RTT_TARGET}: ${verdict(rttRatio <= RTT_TARGET)});  p90 ratio ${ratio(p90Ratio)};  per-round ratios ${perRound.map((v) => ratio(v)).join(', ')};  n=${lib.length} each, ${ROUNDS} alternating rounds`);
  console.log(`bulk ${BULK_BYTES / 1048576} MiB Node -> tab in ${CHUNK} B messages: library ${mbps(median(bulk.lib) / 1e6)}   raw ${mbps(median(bulk.raw) / 1e6)}`);
  console.log(`  ratio ${ratio(bulkRatio)} (target >= ${BULK_TARGET}: ${verdict(bulkRatio >= BULK_TARGET)});  per-round library ${bulk.lib.map((v) => mbps(v / 1e6)).join(', ')}; raw ${bulk.raw.map((v) => mbps(v / 1e6)).join(', ')}`);
  console.log(`handshakes through the PeerJS server: ${connected} of ${CONNECTS} connected (${(rate * 100).toFixed(1)}%, target >= ${HANDSHAKE_TARGET * 100}%: ${verdict(rate >= HANDSHAKE_TARGET)}); median ${ms(median(connectTimes))} from start(); ${connectTimes.filter((t) => t > 1000).length} took over 1 s (a retry): ${connectTimes.filter((t) => t > 1000).map((t) => ms(t)).join(', ') || 'none'}`);
  for (const failure of failures) console.log(`  failed ${failure}`);
  if (problems.length) console.log(`page problems: ${problems.join('; ')}`);
  console.log(rule());
} finally {
  progress('closing the browser');
  await browser.close();
  progress('closing the signaling server');
  await signaling.close();
  progress('closing the page server');
  await server.stop();
  progress('done');
  // After a run with a handshake that failed inside node-datachannel, the
  // process does not exit by itself even with no JS handle left (and after
  // node-datachannel's cleanup()): something native stays referenced. Not
  // explained yet; the bench exits here rather than hang.
  process.exit(process.exitCode ?? 0);
}
