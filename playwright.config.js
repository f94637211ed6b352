// End-to-end tests in Debian's Chromium against the real demo server.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 5174);
// The signaling server the demo server starts beside itself; tests read it
// from /peer-config.json.
export const SIGNAL_PORT = Number(process.env.E2E_SIGNAL_PORT ?? 9174);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    command: 'node scripts/serve.mjs',
    env: { PORT: String(port), SIGNAL_PORT: String(SIGNAL_PORT) },
    url: `http://localhost:${port}/test-p2p.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 30_000,
  },
});
