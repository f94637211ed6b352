// Starts scripts/serve.mjs on a free loopback port for a benchmark run and
// makes sure it never outlives the run.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

export async function startServer(root, probePath) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'scripts', 'serve.mjs')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
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
