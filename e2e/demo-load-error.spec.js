// A demo page whose library is missing (dist/ not built) says so in its
// banner and status instead of sitting there blank.
import { expect, test } from '@playwright/test';

for (const page of ['test-p2p.html', 'compute.html']) {
  test(`${page} explains that the library failed to load when /dist is missing`, async ({ context }) => {
    await context.route('**/dist/peercompute.js', (route) => route.fulfill({ status: 404, body: 'not built' }));
    const tab = await context.newPage();
    await tab.goto(`/${page}`);
    const banner = tab.locator('#loadError');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('PeerCompute failed to load');
    await expect(banner).toContainText('/dist/peercompute.js exists');
    await expect(tab.locator('#status')).toHaveText('Error: library failed to load');
  });

  test(`${page} shows no load error when the library loads`, async ({ context }) => {
    const tab = await context.newPage();
    await tab.goto(`/${page}`);
    await tab.waitForLoadState('load');
    await expect(tab.locator('#status')).not.toHaveText('Error: library failed to load');
    await expect(tab.locator('#loadError')).toBeHidden();
  });
}
