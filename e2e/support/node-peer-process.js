// Starts e2e/support/node-peer.mjs and gives the test a handle on it:
// `await peer.call(op, args)` runs one command in the Node process and
// returns its value (or throws its error); `await peer.close()` ends it and
// resolves with its exit code, after the node stopped.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./node-peer.mjs', import.meta.url));

export function startNodePeer() {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pending = new Map();
  let nextId = 0;
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const { id, ok, value, error } = JSON.parse(line);
    const waiter = pending.get(id);
    pending.delete(id);
    if (ok) waiter?.resolve(value);
    else waiter?.reject(new Error(`node peer: ${error}`));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    call(op, args = {}) {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
      });
    },
    get stderr() {
      return stderr;
    },
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
