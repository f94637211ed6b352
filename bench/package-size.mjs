// What a browser downloads to run a node, against what this package replaces.
//
//   node bench/package-size.mjs [--top=12]
//
// Measured as an app gets it: `npm pack` makes the tarball, which is unpacked
// as node_modules/peercompute of a scratch app; esbuild bundles
// `import { createNode } from 'peercompute'` minified for the browser, and
// the figure is that bundle plus the .wasm it loads, each gzipped (level 9).
// The compute worker (loaded on a node's first compute unit) is printed apart.
// The references are bundled the same way from this repo's node_modules:
// Yjs; Yjs + y-webrtc + y-indexeddb; PeerJS; and those four together, which
// this package replaces. Then the .wasm's largest contributors, from the
// symbol map the build writes beside it (build/wasm/peercompute-core.js.symbols).
// Sizes do not vary from run to run: one run is the measurement.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { anatomy } from './support/wasm-anatomy.mjs';
import { ensureBuilt, root } from './support/project.mjs';

const TARGET_KB = 100;
const AIM_KB = 90;
const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 12);
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

ensureBuilt();
const scratch = mkdtempSync(join(tmpdir(), 'peercompute-size-'));
try {
  // The package as npm installs it.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch, '--loglevel=error'], { cwd: root, encoding: 'utf8' }))[0];
  const installed = join(scratch, 'node_modules', 'peercompute');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(scratch, packed.filename), '-C', installed, '--strip-components=1']);

  const bundleGz = async (name, source) => {
    const entry = join(scratch, `${name}.mjs`);
    writeFileSync(entry, source);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      nodePaths: [join(scratch, 'node_modules'), join(root, 'node_modules')],
      logLevel: 'silent',
    });
    const js = result.outputFiles[0].contents;
    return { raw: js.length, gz: gz(js) };
  };

  const wasm = readFileSync(join(installed, 'dist', 'bundle', 'peercompute-core.wasm'));
  const worker = readFileSync(join(installed, 'dist', 'bundle', 'task-worker.js'));
  const ours = await bundleGz('peercompute', "import { createNode } from 'peercompute'; globalThis.app = createNode;");
  const oursTotal = ours.gz + gz(wasm);
  const refs = {
    Yjs: "import * as Y from 'yjs'; globalThis.app = Y;",
    'Yjs + y-webrtc + y-indexeddb': "import * as Y from 'yjs'; import { WebrtcProvider } from 'y-webrtc'; import { IndexeddbPersistence } from 'y-indexeddb'; globalThis.app = [Y, WebrtcProvider, IndexeddbPersistence];",
    PeerJS: "import { Peer } from 'peerjs'; globalThis.app = Peer;",
    'Yjs + y-webrtc + y-indexeddb + PeerJS': "import * as Y from 'yjs'; import { WebrtcProvider } from 'y-webrtc'; import { IndexeddbPersistence } from 'y-indexeddb'; import { Peer } from 'peerjs'; globalThis.app = [Y, WebrtcProvider, IndexeddbPersistence, Peer];",
  };
  const refSizes = {};
  for (const [name, source] of Object.entries(refs)) refSizes[name] = await bundleGz(name.replace(/\W+/g, '-'), source);
  const replaced = refSizes['Yjs + y-webrtc + y-indexeddb + PeerJS'].gz;

  console.log(`peercompute ${packed.version}, from ${packed.filename} (${kb(packed.size)} packed)`);
  console.log('gzipped (level 9)                              raw        gzipped');
  const row = (label, raw, gzipped) => console.log(`  ${label.padEnd(44)} ${kb(raw).padStart(9)}  ${kb(gzipped).padStart(9)}`);
  row('peercompute: minified JS an app bundles', ours.raw, ours.gz);
  row('peercompute: peercompute-core.wasm', wasm.length, gz(wasm));
  row('peercompute: total to run a node', ours.raw + wasm.length, oursTotal);
  row('  + compute worker, on the first unit', worker.length, gz(worker));
  for (const [name, size] of Object.entries(refSizes)) row(name, size.raw, size.gz);
  console.log(`peercompute / (Yjs + y-webrtc + y-indexeddb + PeerJS): ${(oursTotal / replaced).toFixed(2)}`);
  const verdict = oursTotal <= AIM_KB * 1000 ? 'aim met' : oursTotal <= TARGET_KB * 1000 ? 'target met (aim missed)' : 'target missed';
  console.log(`target: at most ${TARGET_KB} KB (aim ${AIM_KB} KB): ${kb(oursTotal)}, ${verdict}`);

  const symbols = join(root, 'build', 'wasm', 'peercompute-core.js.symbols');
  const built = join(root, 'build', 'wasm', 'peercompute-core.wasm');
  if (!existsSync(symbols) || !existsSync(built) || !readFileSync(built).equals(wasm)) {
    console.log('\n(no symbol map for this .wasm: build it with scripts/build.sh to see its contributors)');
  } else {
    const a = anatomy(wasm, readFileSync(symbols, 'utf8'));
    console.log(`\nthe .wasm: ${kb(a.total)} raw; code ${kb(a.code)}, data ${kb(a.data)}, other sections ${kb(a.total - a.code - a.data)}`);
    console.log('its code by owner (raw bytes):');
    for (const g of a.groups.slice(0, top)) console.log(`  ${kb(g.bytes).padStart(9)}  ${String(g.functions).padStart(4)} fn  ${g.owner}`);
    console.log('its largest functions:');
    for (const f of a.top.slice(0, top)) console.log(`  ${kb(f.bytes).padStart(9)}  ${f.name.length > 110 ? `${f.name.slice(0, 107)}...` : f.name}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
