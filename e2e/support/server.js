// Helpers for the tests that run nodes through a PeerJS signaling server:
// nodes started with an event log, a signaling server process of the test's
// own, and raw WebSocket clients that talk the server's protocol from Node.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from '@playwright/test';
import { WebSocket } from 'ws';
import { SIGNAL_PORT } from '../../playwright.config.js';
import { openTab } from './nodes.js';

export { SIGNAL_PORT };

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// One tab in each of `count` fresh browser contexts (no shared
// BroadcastChannel, storage or process between them).
export async function openContextTabs(browser, room, count) {
  const contexts = [];
  const pages = [];
  for (let i = 0; i < count; i++) {
    const context = await browser.newContext();
    contexts.push(context);
    pages.push(await openTab(context, room));
  }
  return { contexts, pages };
}

// Collects the page's uncaught errors and renderer crashes.
export function watchPageHealth(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('crash', () => problems.push('renderer crashed'));
  return problems;
}

// Replaces the demo page's node with `new NodeKernel(config)` and starts it.
// Before start() it records, in window.__log, every peer-connected,
// peer-disconnected, message and state-changed event, and every peer id that
// getPeers() ever listed (sampled each 50 ms), so that a test can assert what
// a node never saw. `peerServer: 'from-page'` uses /peer-config.json.
export async function startTrackedNode(page, config) {
  return page.evaluate(async (cfg) => {
    if (cfg.peerServer === 'from-page') cfg.peerServer = await (await fetch('/peer-config.json')).json();
    await window.node?.stop();
    if (window.__sampler) clearInterval(window.__sampler);
    const node = new window.NodeKernel(cfg);
    window.node = node;
    const log = { connected: [], disconnected: [], messages: [], stateChanges: [], seenPeers: [] };
    window.__log = log;
    node.on('peer-connected', ({ peerId }) => log.connected.push({ peerId, at: performance.now() }));
    // For diagnosis, a disconnect also records how the peer looked at the
    // last sample before it and the longest the page's main thread went
    // without running the sampler (a stalled tab cannot answer pings).
    const lastSample = new Map();
    let lastTick = performance.now();
    let longestStallMs = 0;
    node.on('peer-disconnected', ({ peerId, reason }) =>
      log.disconnected.push({ peerId, reason, at: performance.now(), lastSample: lastSample.get(peerId) ?? null, longestStallMs,
        lastRejection: node.getNetworkManager().getNetworkStats().lastRejection }),
    );
    node.on('message', ({ peerId, message }) => log.messages.push({ peerId, message }));
    node.on('state-changed', ({ key, origin }) => log.stateChanges.push({ key, origin }));
    await node.initialize();
    const sample = () => {
      const t = performance.now();
      longestStallMs = Math.max(longestStallMs, Math.round(t - lastTick));
      lastTick = t;
      if (window.node !== node || !node.isStarted) return;
      for (const p of node.getNetworkManager().getPeers()) {
        if (!log.seenPeers.includes(p.peerId)) log.seenPeers.push(p.peerId);
        const { state, connectedAt, lastHeardAt, rttMs, framesIn, framesOut, rejected } = p;
        lastSample.set(p.peerId, { sampledAt: Math.round(performance.timeOrigin + t), state, connectedAt, lastHeardAt, rttMs, framesIn, framesOut, rejected });
      }
    };
    lastTick = performance.now();
    window.__sampler = setInterval(sample, 50);
    await node.start();
    sample();
    return node.nodeId;
  }, config);
}

// What startTrackedNode recorded.
export function eventLog(page) {
  return page.evaluate(() => window.__log);
}

export function peersOf(page) {
  return page.evaluate(() => window.node.getNetworkManager().getPeers());
}

export function networkStatus(page) {
  return page.evaluate(() => window.node.getStatus().network);
}

export function stateData(page) {
  return page.evaluate(() => window.node.getStateManager().snapshot().data);
}

// A TCP port on 127.0.0.1 that nothing listens on right now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Runs scripts/signaling-server.mjs as a child process on `port` and resolves
// once it listens. kill() sends SIGKILL, as a crash would, and resolves when
// the process is gone.
export async function spawnSignalingServer(port) {
  const child = spawn(process.execPath, ['scripts/signaling-server.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, SIGNAL_PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`signaling server did not start on ${port}: ${output}`));
    }, 15_000);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('PeerJS signaling server:')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`signaling server exited (${code ?? signal}) before listening: ${output}`));
    });
  });
  return {
    port,
    pid: child.pid,
    get output() {
      return output;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// A client of the PeerJS server's WebSocket protocol, as a browser's PeerJS
// would be, but free to send anything. It registers as `id` and records
// every frame the server sends it.
export class RawSignalingClient {
  received = [];
  #socket;

  static async connect({ port = SIGNAL_PORT, host = '127.0.0.1', path = '/peerjs', key = 'peerjs', id, token }) {
    const client = new RawSignalingClient();
    const url = `ws://${host}:${port}${path}/peerjs?key=${encodeURIComponent(key)}&id=${encodeURIComponent(id)}&token=${encodeURIComponent(token ?? `t${Math.random().toString(36).slice(2)}`)}`;
    const socket = new WebSocket(url);
    client.#socket = socket;
    socket.on('message', (data) => {
      const text = data.toString();
      let parsed = null;
      try {
        parsed = JSON.parse(text);
      } catch {}
      client.received.push(parsed ?? text);
    });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no OPEN from the signaling server for ${id}`)), 10_000);
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('message', () => {
        const first = client.received[0];
        if (!first) return;
        clearTimeout(timer);
        if (first.type === 'OPEN') resolve();
        else reject(new Error(`signaling server answered ${JSON.stringify(first)} for ${id}`));
      });
    });
    return client;
  }

  // A protocol message {type, dst, payload}; payload may be anything JSON holds.
  send(type, dst, payload) {
    this.#socket.send(JSON.stringify(payload === undefined ? { type, dst } : { type, dst, payload }));
  }

  // A frame exactly as given.
  sendText(text) {
    this.#socket.send(text);
  }

  // Resolves once everything sent so far has left the socket.
  async flushed() {
    while (this.#socket.bufferedAmount > 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((resolve, reject) => this.#socket.send(JSON.stringify({ type: 'HEARTBEAT' }), (e) => (e ? reject(e) : resolve())));
  }

  close() {
    this.#socket.close();
  }
}

// Asserts, over `ms`, sampled each `every` ms, that `check` passes; a
// condition that must hold the whole time rather than eventually.
export async function holdsFor(page, ms, every, check) {
  const end = Date.now() + ms;
  do {
    await check();
    await page.waitForTimeout(Math.min(every, Math.max(0, end - Date.now())));
  } while (Date.now() < end);
  await check();
}

export async function expectConnectedPeers(page, ids, timeout = 15_000) {
  await expect
    .poll(() => page.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId).sort()), { timeout })
    .toEqual([...ids].sort());
}
