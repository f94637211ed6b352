// An app bundled with esbuild, which follows neither the package's
// `new URL('./peercompute-core.wasm', import.meta.url)` nor its worker URL:
// without help the wasm is not found, and the node says where it looked and
// which option fixes it; with `assetBaseUrl` naming a copy of the package's
// dist/bundle/ folder, two tabs connect, sync and share a compute job. Served by a
// plain static server, as an app's own would serve it.
import { expect, test } from '@playwright/test';
import { serveDirectory } from './support/app-server.js';
import { buildApps, connectSyncAndCompute, openApp, removeApps } from './support/test-apps.js';

let dir;
let server;

test.beforeAll(async () => {
  dir = await buildApps();
  server = await serveDirectory(dir);
});

test.afterAll(async () => {
  await server?.close();
  removeApps(dir);
});

test('without assetBaseUrl the bundle says where it looked for the wasm and which option fixes it', async ({ context }) => {
  const page = await openApp(context, `${server.base}/app/`);
  const message = await page.evaluate(() => window.app.createNode({ roomId: 'esbuild-missing' }).then(() => 'no error', (e) => e.message));
  expect(message).toBe(
    `peercompute: could not load its WebAssembly module from ${server.base}/app/peercompute-core.wasm: HTTP 404 Not Found. ` +
      "Serve the package's dist/bundle/peercompute-core.wasm there, or set the assetBaseUrl option to the URL of a copy of the package's dist/bundle/ folder " +
      '(bundlers that do not copy the file beside their bundle, such as esbuild, need this).',
  );
});

test('with assetBaseUrl two tabs of the bundle connect, sync and share a compute job', async ({ context }) => {
  await connectSyncAndCompute(context, `${server.base}/app/`, `esbuild-${Date.now()}`, { assetBaseUrl: '/peercompute/' });
});

test('a worker script that is not there fails the job with its URL, the HTTP status and the option', async ({ context }) => {
  const page = await openApp(context, `${server.base}/app/`);
  const message = await page.evaluate(async () => {
    const node = await window.app.createNode({ roomId: `esbuild-partial-${Date.now()}`, assetBaseUrl: '/partial/', enablePersistence: false, computeWorkers: 1 });
    return node.getComputeManager().submitJob('countPrimes', [{ from: 0, to: 100 }], { maxAttempts: 2 }).result.then(() => 'no error', (e) => e.message);
  });
  expect(message).toContain(`unit 0 failed 2 times; last: at `);
  expect(message).toContain(
    `peercompute: the compute worker script did not load from ${server.base}/partial/task-worker.js: HTTP 404 Not Found. ` +
      "Serve the package's dist/bundle/task-worker.js there, or set the assetBaseUrl option",
  );
});
