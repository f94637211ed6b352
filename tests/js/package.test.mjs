// `npm pack` must ship a package that works in an app with no Emscripten:
// pack it, install the tarball into a scratch app, and use it from there
// through the package's `exports`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

  it('ships the minified ES modules with their source maps, the wasm and the type declarations, and no sources', () => {
    const files = packed.files.map((f) => f.path);
    const shipped = ['peercompute.js', 'peercompute.js.map', 'task-worker.js', 'task-worker.js.map', 'peercompute-core.wasm'].map((f) => `dist/bundle/${f}`);
    for (const f of [...shipped, 'dist/peercompute.d.ts', 'dist/package/esm-only.cjs', 'package.json', 'README.md', 'LICENSE']) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.deepEqual(files.filter((f) => f.startsWith('dist/') && !shipped.includes(f)).sort(), ['dist/package/esm-only.cjs', 'dist/peercompute.d.ts'], 'of dist/, only the bundle, the types and the require() error');
    assert.ok(!files.some((f) => f.startsWith('tests/') || f.endsWith('.cpp') || f.endsWith('.h')), 'no C++ sources or tests');
    assert.ok(!files.some((f) => f.startsWith('tests/') || f.endsWith('.cpp') || f.endsWith('.h')), 'no C++ sources or tests');
    assert.deepEqual(files.filter((f) => f.startsWith('wasm/')), ['wasm/wire/PROTOCOL.md'], 'of wasm/, only the protocol document');
    // The command line (peercompute keep / signal): its folder, and nothing else outside dist/ that runs.
    assert.deepEqual(files.filter((f) => f.startsWith('bin/')).sort(), ['bin/args.js', 'bin/keep.js', 'bin/peercompute.js', 'bin/signal.js', 'bin/status.js']);
    assert.deepEqual(packed.files.find((f) => f.path === 'bin/peercompute.js').mode & 0o111, 0o111, 'the bin is executable');
  });

  it('the modules are minified, and their source maps hold the sources they came from', () => {
    const bundle = readFileSync(join(root, 'dist/bundle/peercompute.js'), 'utf8');
    const lines = bundle.split('\n');
    assert.ok(lines.length < 20 && bundle.length / lines.length > 5000, `minified: ${bundle.length} characters on ${lines.length} lines`);
    assert.match(lines.at(-2) + lines.at(-1), /\/\/# sourceMappingURL=peercompute\.js\.map/);
    const map = JSON.parse(readFileSync(join(root, 'dist/bundle/peercompute.js.map'), 'utf8'));
    const nodeKernel = map.sources.findIndex((s) => s.endsWith('node-kernel.js'));
    assert.ok(nodeKernel >= 0, 'the map names node-kernel.js');
    assert.match(map.sourcesContent[nodeKernel], /export class NodeKernel/);
    const worker = JSON.parse(readFileSync(join(root, 'dist/bundle/task-worker.js.map'), 'utf8'));
    assert.ok(worker.sources.some((s) => s.endsWith('task-runner.js')), 'the worker map names task-runner.js');
  });

  it("every relative link in the packed README points at a file in the package", () => {
    const files = new Set(packed.files.map((f) => f.path));
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    assert.ok(links.length > 0);
    for (const link of links) assert.ok(files.has(link.replace(/^\.\//, '')), `README links to ${link}, which the package lacks`);
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

    // The bin, installed as npm links it, loads the package through its exports:
    // here classic-level is not installed, so keep fails saying so, and leaves no data dir.
    const bin = join(app, 'node_modules', '.bin', 'peercompute');
    const version = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8' });
    assert.equal(version.stdout.trim(), packed.version);
    const keep = spawnSync(bin, ['keep', '--server', '127.0.0.1:9', '--room', 'r', '--workers', '0'], { cwd: app, encoding: 'utf8' });
    assert.equal(keep.status, 1, keep.stderr);
    assert.match(keep.stderr, /npm i classic-level/);
    assert.ok(!readdirSync(app).includes('peercompute-data'), 'no data dir left behind');

    // require() says the package is ESM-only, and how to load it.
    writeFileSync(join(app, 'main.cjs'), "require('peercompute');");
    const failed = spawnSync(process.execPath, ['main.cjs'], { cwd: app, encoding: 'utf8' });
    assert.notEqual(failed.status, 0);
    assert.match(failed.stderr, /peercompute is an ES module and cannot be loaded with require\(\)\. Use `import \{ createNode \} from 'peercompute'`/);
  });
});
