// scripts/signaling-server.mjs (the unmodified PeerJS server) in a child
// process on a port of its own; resolves to {port, stop}. Not in the test's
// own process: the PeerJS server re-arms two timers of its own (broken
// connections, message expiry) that nothing can clear, and which would keep
// `node --test` from exiting.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export async function startSignalingProcess() {
  const child = spawn(process.execPath, ['scripts/signaling-server.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, SIGNAL_PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the signaling server did not start: ${output}`)), 15_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`the signaling server exited (${code}): ${output}`)));
  });
  return { port, stop: () => child.kill('SIGKILL') };
}
