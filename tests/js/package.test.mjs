// `npm pack` must ship a package that works in an app with no Emscripten:
// pack it, install the tarball into a scratch app, and use it from there
// through the package's `exports`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'peercompute-pack-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function npm(args, cwd) {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
}

describe('npm pack', () => {
  // dist/ is already built by the test command, so skip the prepack rebuild.
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], root));

  it('ships the ES module, the wasm, the glue and the type declarations, and no sources', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['dist/peercompute.js', 'dist/peercompute-core.wasm', 'dist/peercompute-core.js', 'dist/peercompute.d.ts', 'package.json', 'README.md']) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.ok(!files.some((f) => f.startsWith('wasm/') || f.startsWith('tests/') || f.endsWith('.cpp')), 'no C++ sources or tests');
  });

  it('installs into an app and works there through package exports', () => {
    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    npm(['install', join(scratch, readdirSync(scratch).find((f) => f.endsWith('.tgz')))], app);
    writeFileSync(
      join(app, 'main.js'),
      `import { createNode, VERSION } from 'peercompute';
       const node = await createNode({ roomId: 'packed' });
       const state = node.getStateManager();
       state.write('k', { ok: true });
       console.log(JSON.stringify({ VERSION, value: state.read('k'), initialized: node.getStatus().isInitialized }));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' }).trim());
    assert.deepEqual(out, { VERSION: packed.version, value: { ok: true }, initialized: true });
  });
});
