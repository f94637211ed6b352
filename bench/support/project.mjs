// Where the project is, and the built package (dist/) the bench pages load.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const built = () => existsSync(join(root, 'dist', 'peercompute.js')) && existsSync(join(root, 'dist', 'peercompute-core.wasm'));

// Builds dist/ with scripts/build.sh if it is missing.
export function ensureBuilt() {
  if (built()) return;
  console.log('dist/ is missing; building with scripts/build.sh ...');
  const r = spawnSync('bash', [join(root, 'scripts', 'build.sh')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/build.sh failed');
}

// Waits (up to 3 minutes) for dist/ while another process rebuilds it
// (scripts/build.sh removes it first); builds nothing.
export async function waitForDist() {
  const deadline = Date.now() + 180_000;
  while (!built()) {
    if (Date.now() > deadline) throw new Error('dist/ is missing; build it with `npm run build` first');
    await new Promise((r) => setTimeout(r, 1000));
  }
}
