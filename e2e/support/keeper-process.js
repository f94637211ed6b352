// Runs `peercompute keep --json` (bin/peercompute.js) in a process of its
// own for the e2e tests, and follows its JSON event lines: `await
// keeper.until(event, test)` waits for an event that passes `test`.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/peercompute.js', import.meta.url));

export function startKeeper({ server, room, dataDir }) {
  const child = spawn(process.execPath, [bin, 'keep', '--server', server, '--room', room, '--data-dir', dataDir, '--workers', '1', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events = [];
  const waiters = new Set();
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line);
    events.push(event);
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    events,
    get stderr() {
      return stderr;
    },
    // The first event named `name` for which test(event) holds, now or later.
    until(name, test = () => true, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.event === name && test(e));
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the keeper sent no '${name}' event in ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
