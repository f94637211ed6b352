// The contract every signaling transport meets (js-glue/transports/signaling-transport.js).
// Each transport in TRANSPORTS runs the same checks, in real Chromium tabs.
import { expect, test } from '@playwright/test';
import { openTab, uniqueRoom } from './support/nodes.js';

const TRANSPORTS = [
  { name: 'BroadcastChannelTransport', module: '/dist/transports/broadcast-channel-transport.js' },
];

async function startTransport(page, transport, room, slot) {
  await page.evaluate(
    async ([modulePath, className, roomName, name]) => {
      const Transport = (await import(modulePath))[className];
      const transport = new Transport(roomName);
      window.transports ??= {};
      window.heard ??= {};
      window.heard[name] = [];
      await transport.start((text) => window.heard[name].push(text));
      window.transports[name] = transport;
    },
    [transport.module, transport.name, room, slot],
  );
}

const heard = (page, slot) => page.evaluate((name) => window.heard[name], slot);
const send = (page, slot, text, to = '') => page.evaluate(([n, t, r]) => window.transports[n].send(t, r), [slot, text, to]);

for (const transport of TRANSPORTS) {
  test.describe(`signaling transport contract: ${transport.name}`, () => {
    test('delivers each message once, intact, to every other started transport and not to the sender', async ({ context }, testInfo) => {
      const room = uniqueRoom(testInfo);
      const [p1, p2] = [await openTab(context, room), await openTab(context, room)];
      await startTransport(p1, transport, room, 'a');
      await startTransport(p2, transport, room, 'b');
      await startTransport(p2, transport, room, 'c');

      const big = JSON.stringify({ v: 1, pad: 'é✓'.repeat(20_000) });
      await send(p1, 'a', 'first');
      await send(p1, 'a', big);
      await send(p2, 'b', 'from b');

      await expect.poll(() => heard(p2, 'c')).toEqual(['first', big, 'from b']);
      await expect.poll(() => heard(p2, 'b')).toEqual(['first', big]);
      await expect.poll(() => heard(p1, 'a')).toEqual(['from b']);
    });

    test('after stop() a transport neither hears nor sends, and others carry on', async ({ context }, testInfo) => {
      const room = uniqueRoom(testInfo);
      const [p1, p2] = [await openTab(context, room), await openTab(context, room)];
      await startTransport(p1, transport, room, 'a');
      await startTransport(p2, transport, room, 'b');
      await p1.evaluate(() => window.transports.a.stop());

      await send(p2, 'b', 'after stop');
      await send(p1, 'a', 'from a stopped transport');
      await startTransport(p1, transport, room, 'probe');
      await send(p2, 'b', 'marker');

      await expect.poll(() => heard(p1, 'probe')).toEqual(['marker']);
      expect(await heard(p1, 'a')).toEqual([]);
      expect(await heard(p2, 'b')).toEqual([]);
    });
  });
}
