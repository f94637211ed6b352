// Shared by the browser benches: Debian's Chromium
// through Playwright (nothing is downloaded), cross-origin isolated bench
// pages, and calls into a page's window.bench.
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../playwright.config.js';

export { CHROMIUM_ARGS };

export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// Cross-origin isolation (COOP + COEP on every response) raises the
// resolution of performance.now() from 100 us to 5 us, which a sub-
// millisecond round trip needs. The headers are added here rather than in
// scripts/serve.mjs so the demo server stays as it is.
//
// A page whose response Playwright fulfilled has no server address, so
// Chromium's Local Network Access checks treat it as public and block its
// WebSocket to the signaling server on 127.0.0.1
// (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS); the context is granted
// that permission, as a user would on the browser's prompt.
export async function newIsolatedContext(browser, base) {
  const context = await browser.newContext({ permissions: ['local-network-access'] });
  await context.route(`${base}/**`, async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: {
        ...response.headers(),
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      },
    });
  });
  return context;
}

// Collects a page's errors and console errors and warnings into problems,
// tagged with label; saveResults() prints them after the summary.
export function watchPage(page, label, problems) {
  page.on('pageerror', (error) => problems.push(`[${label}] page error: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`[${label}] console ${msg.type()}: ${msg.text()}`);
  });
  return page;
}

// Waits until the bench page's module has set window.bench.ready.
export const waitForBench = (page) => page.waitForFunction(() => window.bench?.ready === true, null, { timeout: 15_000 });

// Opens a bench page (bench/connect-rtt.html unless told) in a new tab of
// context and waits for its module; its problems go to problems.
export async function openBenchPage(context, base, label, problems, path = '/bench/connect-rtt.html') {
  const page = watchPage(await context.newPage(), label, problems);
  await page.goto(`${base}${path}`);
  await waitForBench(page);
  return page;
}

export const call = (page, fn, ...args) =>
  page.evaluate(([name, list]) => window.bench[name](...list), [fn, args]);

// What every browser bench records about where it ran; `extra` adds the
// bench's own fields.
export function browserEnvironment(browser, libraryVersion, extra = {}) {
  return {
    chromium: browser.version(),
    chromiumArgs: CHROMIUM_ARGS,
    node: process.version,
    peercompute: libraryVersion,
    platform: `${process.platform} ${process.arch}`,
    ...extra,
  };
}
