// The signaling transport contract (tests/js/transport-contract/contract.mjs,
// the same checks the Node suite runs) in real Chromium tabs: every
// transport, each in two tabs of one browser context, the PeerJS socket
// against the signaling server the e2e web server starts beside itself.
import { test } from '@playwright/test';
import { SIGNAL_PORT } from '../playwright.config.js';
import { broadcastChannelFixture, CONTRACT_CHECKS, peerServerFixture } from '../tests/js/transport-contract/contract.mjs';
import { openTab, uniqueRoom } from './support/nodes.js';

const FIXTURES = [broadcastChannelFixture, peerServerFixture({ host: '127.0.0.1', port: SIGNAL_PORT })];

// Transports in the tabs' own realms, driven by slot name.
function tabsPlace(pages, fixture) {
  const tabOf = new Map();
  const page = (slot) => pages[tabOf.get(slot)];
  return {
    create(slot, tab) {
      tabOf.set(slot, tab);
      return pages[tab].evaluate(
        async ([path, className, name]) => {
          const Transport = (await import(path))[className];
          const log = { opens: 0, closes: 0, messages: [], listings: [] };
          window.transportLogs ??= {};
          window.transports ??= {};
          window.transportLogs[name] = log;
          window.transports[name] = new Transport({
            onOpen: () => log.opens++,
            onMessage: (text) => log.messages.push(text),
            onClosed: () => log.closes++,
            onListing: (ok, text) => log.listings.push({ ok, text }),
          });
          const methods = Object.getOwnPropertyNames(Transport.prototype).filter((m) => m !== 'constructor');
          return { route: Transport.route, methods };
        },
        [`/dist/${fixture.module}`, fixture.transport, slot],
      );
    },
    call: (slot, method, ...args) => page(slot).evaluate(([name, m, a]) => void window.transports[name][m](...a), [slot, method, args]),
    log: (slot) => page(slot).evaluate((name) => window.transportLogs[name], slot),
    async dispose() {
      for (const p of pages) await p.evaluate(() => Object.values(window.transports ?? {}).forEach((t) => t.close())).catch(() => {});
    },
  };
}

for (const fixture of FIXTURES) {
  test.describe(`signaling transport contract: ${fixture.transport}`, () => {
    // A check that is not for this transport (a listing where there is none)
    // is not registered at all.
    for (const check of CONTRACT_CHECKS.filter((c) => c.applies?.(fixture) ?? true)) {
      test(check.title, async ({ context }, testInfo) => {
        const room = uniqueRoom(testInfo);
        const pages = [await openTab(context, room), await openTab(context, room)];
        const place = tabsPlace(pages, fixture);
        try {
          await check.run({ fixture, place, room });
        } finally {
          await place.dispose();
        }
      });
    }
  });
}
