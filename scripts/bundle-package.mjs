// Builds what the package ships for apps, dist/bundle/, from the module tree
// scripts/build.sh assembled in dist/: two minified ES modules with source
// maps (the sources inside) and the .wasm beside them, all in one folder so
// that `new URL('./…', import.meta.url)` in either module finds the others.
//
//   peercompute.js        the package's entry (exports "."), Emscripten's
//                         loader included
//   task-worker.js        the compute Web Worker, loaded on a node's first
//                         unit (it loads the same .wasm for built-in tasks)
//   peercompute-core.wasm the kernel
//
// An app whose bundler does not follow those URLs serves a copy of this
// folder and names it with the assetBaseUrl option.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
const { version, license } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const entries = { peercompute: join(dist, 'peercompute.js'), 'task-worker': join(dist, 'compute', 'task-worker.js') };
await build({
  entryPoints: entries,
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  sourcesContent: true,
  legalComments: 'none',
  banner: { js: `/*! peercompute ${version} | ${license} */` },
  logLevel: 'warning',
});
copyFileSync(join(dist, 'peercompute-core.wasm'), join(out, 'peercompute-core.wasm'));
