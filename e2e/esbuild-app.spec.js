// An app bundled with esbuild, which follows neither the package's
// `new URL('./peercompute-core.wasm', import.meta.url)` nor its worker URL:
// without help the wasm is not found, and the node says where it looked and
// which option fixes it; with `assetBaseUrl` naming a copy of the package's
// dist/ folder, two tabs connect, sync and share a compute job. Served by a
// plain static server, as an app's own would serve it.
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/app-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir;
let server;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'peercompute-esbuild-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(
    join(dir, 'app', 'main.js'),
    `import { createNode } from 'peercompute';
     // The page's handle for the test: the app's own code would call these.
     window.app = { createNode, ready: true };`,
  );
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>esbuild app</title><script type="module" src="./bundle.js"></script>');
  await build({
    entryPoints: [join(dir, 'app', 'main.js')],
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: true,
    outfile: join(dir, 'app', 'bundle.js'),
    alias: { peercompute: join(root, 'dist', 'peercompute.js') },
    logLevel: 'silent',
  });
  // What the README tells an esbuild user to do: copy dist/ somewhere served.
  cpSync(join(root, 'dist'), join(dir, 'peercompute'), { recursive: true });
  // A copy that lacks the compute worker, for the worker's error.
  cpSync(join(root, 'dist'), join(dir, 'partial'), { recursive: true });
  rmSync(join(dir, 'partial', 'compute'), { recursive: true });
  server = await serveDirectory(dir);
});

test.afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openApp(context) {
  const page = await context.newPage();
  await page.goto(`${server.base}/app/`);
  await page.waitForFunction(() => window.app?.ready === true);
  return page;
}

test('without assetBaseUrl the bundle says where it looked for the wasm and which option fixes it', async ({ context }) => {
  const page = await openApp(context);
  const message = await page.evaluate(() => window.app.createNode({ roomId: 'esbuild-missing' }).then(() => 'no error', (e) => e.message));
  expect(message).toBe(
    `peercompute: could not load its WebAssembly module from ${server.base}/app/peercompute-core.wasm: HTTP 404 Not Found. ` +
      "Serve the package's dist/peercompute-core.wasm there, or set the assetBaseUrl option to the URL of a copy of the package's dist/ folder " +
      '(bundlers that do not copy the file beside their bundle, such as esbuild, need this).',
  );
});

test('with assetBaseUrl two tabs of the bundle connect, sync and share a compute job', async ({ context }, testInfo) => {
  const room = `esbuild-${testInfo.workerIndex}-${Date.now()}`;
  const pages = [await openApp(context), await openApp(context)];
  const ids = [];
  for (const page of pages) {
    ids.push(
      await page.evaluate(async (roomId) => {
        window.node = await window.app.createNode({ roomId, assetBaseUrl: '/peercompute/', enablePersistence: false, computeWorkers: 1 });
        await window.node.start();
        return window.node.nodeId;
      }, room),
    );
  }
  const [a, b] = pages;
  await expect.poll(() => a.evaluate(() => window.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId))).toEqual([ids[1]]);
  await a.evaluate(() => window.node.getStateManager().write('greeting', { from: 'esbuild' }));
  await expect.poll(() => b.evaluate(() => window.node.getStateManager().read('greeting'))).toEqual({ from: 'esbuild' });
  await expect.poll(() => a.evaluate((peer) => Object.keys(window.node.getComputeManager().getCapabilities().peers).includes(peer), ids[1])).toBe(true);
  const result = await a.evaluate(async () => {
    const tiles = Array.from({ length: 16 }, (_, i) => ({ x0: -2 + (i % 4) * 0.75, y0: -1.2 + Math.floor(i / 4) * 0.6, dx: 0.01, dy: 0.01, width: 75, height: 60, maxIter: 3000 }));
    const job = window.node.getComputeManager().submitJob('mandelbrot', tiles);
    const outputs = await job.result;
    return { lengths: outputs.map((o) => o.length), byPeer: job.stats.unitsByPeer };
  });
  expect(result.lengths).toEqual(Array(16).fill(75 * 60));
  expect(Object.values(result.byPeer).reduce((x, y) => x + y, 0)).toBe(16);
  expect(result.byPeer[ids[1]] ?? 0, 'the other tab ran some tiles in its worker, loaded from assetBaseUrl').toBeGreaterThan(0);
});

test('a worker script that is not there fails the job with its URL, the HTTP status and the option', async ({ context }) => {
  const page = await openApp(context);
  const message = await page.evaluate(async () => {
    const node = await window.app.createNode({ roomId: `esbuild-partial-${Date.now()}`, assetBaseUrl: '/partial/', enablePersistence: false, computeWorkers: 1 });
    return node.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 100 }], { maxAttempts: 2 }).result.then(() => 'no error', (e) => e.message);
  });
  expect(message).toContain(`unit 0 failed 2 times; last: at `);
  expect(message).toContain(
    `peercompute: the compute worker script did not load from ${server.base}/partial/compute/task-worker.js: HTTP 404 Not Found. ` +
      "Serve the package's dist/compute/ folder there, or set the assetBaseUrl option",
  );
});
