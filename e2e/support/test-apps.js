// Small apps built the ways an app developer ships the package, served by a
// plain static server (support/app-server.js), and the two-tab flow each
// must pass: connect, sync a key, and share a compute job.
import { expect } from '@playwright/test';
import { build } from 'esbuild';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The app's own code: every app exposes the same handle to the test.
const MAIN = `import { createNode } from 'peercompute';
window.app = { createNode, ready: true };`;

// Builds, in a fresh temporary directory:
//   /app/      main.js bundled with esbuild (minified, with a source map);
//   /plain/    main.js unbundled, 'peercompute' resolved by an import map;
//   /peercompute/  a copy of dist/bundle/ (what the README tells esbuild users to serve);
//   /partial/      the same without task-worker.js, for the worker's error.
// Every app uses what the package ships: dist/bundle/, minified.
// Returns the directory; remove it with removeApps().
export async function buildApps() {
  const dir = mkdtempSync(join(tmpdir(), 'peercompute-apps-'));
  for (const app of ['app', 'plain']) {
    mkdirSync(join(dir, app));
    writeFileSync(join(dir, app, 'main.js'), MAIN);
  }
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>esbuild app</title><script type="module" src="./bundle.js"></script>');
  await build({
    entryPoints: [join(dir, 'app', 'main.js')],
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: true,
    outfile: join(dir, 'app', 'bundle.js'),
    alias: { peercompute: join(root, 'dist', 'bundle', 'peercompute.js') },
    logLevel: 'silent',
  });
  writeFileSync(
    join(dir, 'plain', 'index.html'),
    '<!doctype html><title>import map app</title>' +
      '<script type="importmap">{"imports": {"peercompute": "/peercompute/peercompute.js"}}</script>' +
      '<script type="module" src="./main.js"></script>',
  );
  cpSync(join(root, 'dist', 'bundle'), join(dir, 'peercompute'), { recursive: true });
  cpSync(join(root, 'dist', 'bundle'), join(dir, 'partial'), { recursive: true });
  rmSync(join(dir, 'partial', 'task-worker.js'));
  return dir;
}

export function removeApps(dir) {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export async function openApp(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
  await page.goto(url);
  await page.waitForFunction(() => window.app?.ready === true);
  page.problems = problems;
  return page;
}

// Two tabs of the app at `url` create nodes with `options`, connect, sync a
// key and run a job of mandelbrot tiles that both tabs' workers share.
export async function connectSyncAndCompute(context, url, room, options = {}) {
  const pages = [await openApp(context, url), await openApp(context, url)];
  const ids = [];
  for (const page of pages) {
    ids.push(
      await page.evaluate(
        async ([roomId, opts]) => {
          window.node = await window.app.createNode({ roomId, enablePersistence: false, computeWorkers: 1, ...opts });
          await window.node.start();
          return window.node.nodeId;
        },
        [room, options],
      ),
    );
  }
  const [a, b] = pages;
  await expect.poll(() => a.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId))).toEqual([ids[1]]);
  await a.evaluate(() => window.node.getStateManager().write('greeting', { from: 'a' }));
  await expect.poll(() => b.evaluate(() => window.node.getStateManager().read('greeting'))).toEqual({ from: 'a' });
  await expect.poll(() => a.evaluate((peer) => Object.keys(window.node.getComputeManager().getCapabilities().peers).includes(peer), ids[1])).toBe(true);
  const result = await a.evaluate(async () => {
    const tiles = Array.from({ length: 16 }, (_, i) => ({ x0: -2 + (i % 4) * 0.75, y0: -1.2 + Math.floor(i / 4) * 0.6, dx: 0.01, dy: 0.01, width: 75, height: 60, maxIter: 3000 }));
    const job = window.node.getComputeManager().submitJob('mandelbrot', tiles);
    const outputs = await job.result;
    return { lengths: outputs.map((o) => o.length), byPeer: job.stats.unitsByPeer };
  });
  expect(result.lengths).toEqual(Array(16).fill(75 * 60));
  expect(Object.values(result.byPeer).reduce((x, y) => x + y, 0)).toBe(16);
  expect(result.byPeer[ids[1]] ?? 0, "the other tab ran some tiles in its own worker").toBeGreaterThan(0);
  for (const page of pages) expect(page.problems, 'no page errors').toEqual([]);
  return { pages, ids };
}

// The same app built by Vite, webpack 5 and Rollup into /vite/, /webpack/
// and /rollup/ of `dir` (made by buildApps). Vite and webpack follow
// `new URL(…, import.meta.url)` (assets and the module worker) and need no
// option; Rollup does not, and its app sets assetBaseUrl as the esbuild one
// does.
export async function buildWithBundlers(dir) {
  const entry = join(dir, 'app', 'main.js');
  const target = join(root, 'dist', 'bundle', 'peercompute.js');
  const page = (script, module = true) =>
    `<!doctype html><title>bundled app</title><script ${module ? 'type="module" ' : ''}src="${script}"></script>`;

  const vite = await import('vite');
  mkdirSync(join(dir, 'vite-src'));
  writeFileSync(join(dir, 'vite-src', 'main.js'), MAIN);
  writeFileSync(join(dir, 'vite-src', 'index.html'), page('./main.js'));
  await vite.build({
    root: join(dir, 'vite-src'),
    base: '/vite/',
    logLevel: 'silent',
    configFile: false,
    resolve: { alias: { peercompute: target } },
    worker: { format: 'es' },
    build: { outDir: join(dir, 'vite'), target: 'es2022', emptyOutDir: true },
  });

  const { default: webpack } = await import('webpack');
  await new Promise((resolve, reject) =>
    webpack(
      {
        mode: 'production',
        entry,
        output: { path: join(dir, 'webpack'), filename: 'bundle.js', publicPath: '/webpack/' },
        resolve: { alias: { peercompute: target } },
        performance: { hints: false },
      },
      (error, stats) => (error || stats.hasErrors() ? reject(error ?? new Error(stats.toString('errors-only'))) : resolve()),
    ),
  );
  writeFileSync(join(dir, 'webpack', 'index.html'), page('./bundle.js', false));

  const { rollup } = await import('rollup');
  const bundle = await rollup({
    input: entry,
    onwarn: () => {},
    plugins: [{ name: 'peercompute-alias', resolveId: (id) => (id === 'peercompute' ? target : null) }],
  });
  await bundle.write({ file: join(dir, 'rollup', 'bundle.js'), format: 'es', inlineDynamicImports: true });
  await bundle.close();
  writeFileSync(join(dir, 'rollup', 'index.html'), page('./bundle.js'));
}
