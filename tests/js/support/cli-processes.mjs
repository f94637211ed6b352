// Child processes for the command-line tests: the `peercompute` bin (the
// package's bin/peercompute.js, which loads the built package as an installed
// copy would, through its "exports") and Node peers (json-peer.mjs).
// Every child is killed when the test process exits, so a failed test leaves
// nothing running.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/peercompute.js', import.meta.url));
const PEER = fileURLToPath(new URL('./json-peer.mjs', import.meta.url));

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child) {
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
  return exited;
}

// Runs the bin to its end: {code, stdout, stderr}.
export async function runCli(args, { cwd, env, timeoutMs = 15_000 } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await track(child);
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

// A long-running bin (keep --json, or signal): its stdout lines as they
// come (parsed when JSON), waitFor(test) on them, and stop(signal).
export function startCli(args, { cwd } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = track(child);
  const lines = [];
  const waiters = new Set();
  let buffered = '';
  let stderr = '';
  const check = () => {
    for (const w of waiters) {
      const found = lines.find(w.test);
      if (found !== undefined) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(found);
      }
    }
  };
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const text of parts) {
      try {
        lines.push(JSON.parse(text));
      } catch {
        lines.push(text);
      }
    }
    check();
  });
  child.stderr.on('data', (c) => (stderr += c));
  exited.then(() => {
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`the bin exited before ${w.what}; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`));
    }
    waiters.clear();
  });
  return {
    child,
    lines,
    exited,
    get stderr() {
      return stderr;
    },
    // The first line that passes test(line), now or within ms.
    waitFor(test, what, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const w = { test, what, resolve, reject };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out waiting for ${what}; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`));
        }, ms);
        waiters.add(w);
        check();
      });
    },
    event(name, test = () => true, ms) {
      return this.waitFor((l) => l?.event === name && test(l), `the ${name} event`, ms);
    },
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
  };
}

export function keeperArgs({ port, room, dataDir, extra = [] }) {
  return ['keep', '--server', `127.0.0.1:${port}`, '--room', room, '--data-dir', dataDir, '--json', ...extra];
}

// A Node peer in its own process: call(op, args) -> its reply's value.
export function startPeer() {
  const child = spawn(process.execPath, [PEER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = track(child);
  const pending = new Map();
  let next = 0;
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const text of parts) {
      const { id, ok, value, error } = JSON.parse(text);
      const p = pending.get(id);
      pending.delete(id);
      if (ok) p?.resolve(value);
      else p?.reject(new Error(error));
    }
  });
  child.stderr.on('data', (c) => (stderr += c));
  exited.then(({ code }) => {
    for (const p of pending.values()) p.reject(new Error(`the peer exited (${code}): ${stderr}`));
  });
  return {
    call(op, args = {}) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
      });
    },
    // Closing stdin stops the node; the process then ends by itself.
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

export function peerConfig(port, room, extra = {}) {
  return { roomId: room, enablePersistence: false, peerServer: { host: '127.0.0.1', port, path: '/peerjs', secure: false, key: 'peerjs' }, ...extra };
}

// A port nothing listens on (taken and released at once).
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
