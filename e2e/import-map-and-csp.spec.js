// Two more ways an app ships the package: unbundled, with 'peercompute'
// resolved by an import map, and under a strict Content-Security-Policy that
// forbids 'unsafe-eval' (the kernel's module is built without dynamic
// execution, so only 'wasm-unsafe-eval' is needed). In each, two tabs
// connect, sync a key and share a compute job, with no page error: a CSP
// violation would show as one.
import { test } from '@playwright/test';
import { serveDirectory } from './support/app-server.js';
import { buildApps, connectSyncAndCompute, removeApps } from './support/test-apps.js';

const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";

let dir;
let server;
let strict;

test.beforeAll(async () => {
  dir = await buildApps();
  server = await serveDirectory(dir);
  strict = await serveDirectory(dir, { 'content-security-policy': STRICT_CSP });
});

test.afterAll(async () => {
  await server?.close();
  await strict?.close();
  removeApps(dir);
});

test('an unbundled app with an import map: two tabs connect, sync and share a compute job', async ({ context }) => {
  await connectSyncAndCompute(context, `${server.base}/plain/`, `import-map-${Date.now()}`);
});

test(`under "${STRICT_CSP}": two tabs of a bundled app connect, sync and share a compute job`, async ({ context }) => {
  await connectSyncAndCompute(context, `${strict.base}/app/`, `csp-${Date.now()}`, { assetBaseUrl: '/peercompute/' });
});
