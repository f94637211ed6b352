// The same small app built by Vite, webpack 5 and Rollup and served by a
// plain static server: in each, two tabs connect, sync a key and share a
// compute job, with no page error. Vite and webpack ship the .wasm and the
// module worker themselves (they follow `new URL(…, import.meta.url)`);
// Rollup does not, and its app names a copy of dist/bundle/ with assetBaseUrl, as
// an esbuild app does (e2e/esbuild-app.spec.js).
import { test } from '@playwright/test';
import { serveDirectory } from './support/app-server.js';
import { buildApps, buildWithBundlers, connectSyncAndCompute, removeApps } from './support/test-apps.js';

let dir;
let server;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  dir = await buildApps();
  await buildWithBundlers(dir);
  server = await serveDirectory(dir);
});

test.afterAll(async () => {
  await server?.close();
  removeApps(dir);
});

test('Vite: two tabs connect, sync and share a compute job, with no option', async ({ context }) => {
  await connectSyncAndCompute(context, `${server.base}/vite/`, `vite-${Date.now()}`);
});

test('webpack 5: two tabs connect, sync and share a compute job, with no option', async ({ context }) => {
  await connectSyncAndCompute(context, `${server.base}/webpack/`, `webpack-${Date.now()}`);
});

test('Rollup: two tabs connect, sync and share a compute job, with assetBaseUrl', async ({ context }) => {
  await connectSyncAndCompute(context, `${server.base}/rollup/`, `rollup-${Date.now()}`, { assetBaseUrl: '/peercompute/' });
});
