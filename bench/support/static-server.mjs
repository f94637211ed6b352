// Starts scripts/serve.mjs on a free loopback port (5190-5199 when one is
// free) for a benchmark run, without the signaling server it would otherwise
// start on the demo's port 9000, and makes sure it never outlives the run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PAGE_PORTS, freePortIn } from './ports.mjs';

export async function startServer(root, probePath) {
  const port = await freePortIn(...PAGE_PORTS);
  const child = spawn(process.execPath, [join(root, 'scripts', 'serve.mjs')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SIGNAL_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  // Never leave the server behind, even if this process dies on an uncaught
  // error (an EPIPE on stdout, say) or is interrupted.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`scripts/serve.mjs exited early (${child.exitCode}): ${stderr.trim()}`);
    try {
      const res = await fetch(`${base}${probePath}`);
      if (res.ok) break;
      throw new Error(`HTTP ${res.status}`);
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill();
        throw new Error(`static server did not come up on ${base}: ${error.message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    base,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
