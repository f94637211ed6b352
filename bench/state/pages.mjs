// How the state bench's pages are served and loaded: the page
// (bench/state-vs-yjs.html) from scripts/serve.mjs, with an import map for
// yjs and lib0, which are served from node_modules; the conformance codec
// from tests/; the package from a snapshot of dist/; every response
// cross-origin isolated.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize, relative, sep } from 'node:path';
import { waitForBench } from '../support/browser.mjs';
import { root } from '../support/project.mjs';

export const PAGE = '/bench/state-vs-yjs.html';
// The independent codec of PROTOCOL.md's state frames that the page's B3
// cross-checks use; it lives with the conformance test that checks the
// library against it, and is served to the page from there (scripts/serve.mjs
// serves bench/, not tests/).
const CONFORMANCE_DIR = '/tests/js/conformance/';

// ---- yjs and lib0 from node_modules ------------------------------------------------------

// The packages the page may load from node_modules: yjs and what it imports.
const SERVED_PACKAGES = ['yjs', 'lib0', 'isomorphic.js'];
const CONDITIONS = ['browser', 'import', 'module', 'default'];

function pickTarget(target) {
  if (target === null || target === undefined) return null;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = pickTarget(t);
      if (r) return r;
    }
    return null;
  }
  for (const condition of CONDITIONS) {
    if (condition in target) {
      const r = pickTarget(target[condition]);
      if (r) return r;
    }
  }
  return null;
}

// An import map entry for every ES module a package exports, resolved with
// the conditions a browser bundler would use.
function packageImports(name) {
  const dir = join(root, 'node_modules', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  let exportsField = pkg.exports ?? { '.': pkg.module ?? pkg.main ?? './index.js' };
  if (typeof exportsField === 'string' || !Object.keys(exportsField).some((k) => k.startsWith('.'))) {
    exportsField = { '.': exportsField };
  }
  const imports = {};
  for (const [subpath, target] of Object.entries(exportsField)) {
    if (subpath.includes('*')) continue;
    const file = pickTarget(target);
    if (!file || !/\.m?js$/.test(file)) continue;
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    imports[specifier] = `/node_modules/${name}/${file.replace(/^\.\//, '')}`;
  }
  return { version: pkg.version, imports };
}

export function buildImportMap() {
  const imports = {};
  const versions = {};
  for (const name of SERVED_PACKAGES) {
    if (!existsSync(join(root, 'node_modules', name, 'package.json'))) {
      throw new Error(`node_modules/${name} is missing: run npm install (yjs is a devDependency)`);
    }
    const p = packageImports(name);
    Object.assign(imports, p.imports);
    versions[name] = p.version;
  }
  return { importMap: { imports }, versions };
}

// Maps a /node_modules/<package>/... URL path to a file, or null.
function nodeModulesFile(urlPath) {
  const m = /^\/node_modules\/([^/]+)\/(.+)$/.exec(urlPath);
  if (!m || !SERVED_PACKAGES.includes(m[1])) return null;
  const dir = join(root, 'node_modules', m[1]);
  const file = normalize(join(dir, m[2]));
  return file.startsWith(dir + sep) && existsSync(file) && statSync(file).isFile() ? file : null;
}

// Maps a URL path under CONFORMANCE_DIR to a .js file there, or null.
function conformanceFile(urlPath) {
  const dir = join(root, ...CONFORMANCE_DIR.split('/').filter(Boolean));
  const file = normalize(join(root, urlPath));
  return file.startsWith(dir + sep) && file.endsWith('.js') && existsSync(file) && statSync(file).isFile() ? file : null;
}

// ---- dist/ ---------------------------------------------------------------------------------

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

// dist/ as it was when the run started: the pages load the package from this
// copy (through Playwright routing), so a rebuild of dist/ by something else
// during a run cannot mix two builds or take the server down mid-file.
export function snapshotDist() {
  const dist = join(root, 'dist');
  const files = new Map();
  for (const file of listFiles(dist)) files.set(relative(root, file).split(sep).join('/'), readFileSync(file));
  const wasm = [...files.keys()].find((f) => f.endsWith('.wasm'));
  if (!wasm || !files.has('dist/peercompute.js')) throw new Error('dist/ is incomplete (being rebuilt?); run scripts/build.sh and retry');
  const sha256 = wasm ? createHash('sha256').update(files.get(wasm)).digest('hex').slice(0, 16) : null;
  return { files, wasmSha256: sha256 };
}

// ---- pages --------------------------------------------------------------------------------

const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

// A module file, or a 404 naming the path where there is none.
async function fulfillModule(route, path, file) {
  if (!file) return route.fulfill({ status: 404, body: `not served: ${path}` });
  return route.fulfill({
    status: 200,
    body: await readFile(file),
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', ...ISOLATION },
  });
}

// Routes the browser context's requests for the server at `base`: yjs and
// lib0, the conformance codec and dist/ (from the snapshot) are answered
// here, the rest by the server, the page with importMap in place of its own.
// A request the server fails is aborted, and noted in problems.
export async function routeBenchPages(context, base, { importMap, snapshot, problems }) {
  const mapJson = JSON.stringify(importMap);
  await context.route(`${base}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path.startsWith('/node_modules/')) return fulfillModule(route, path, nodeModulesFile(path));
    if (path.startsWith(CONFORMANCE_DIR)) return fulfillModule(route, path, conformanceFile(path));
    if (path.startsWith('/dist/')) {
      const body = snapshot.files.get(path.slice(1));
      if (!body) return route.fulfill({ status: 404, body: `not in the dist/ snapshot: ${path}` });
      const type = path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
      return route.fulfill({ status: 200, body, headers: { 'content-type': type, 'cache-control': 'no-store', ...ISOLATION } });
    }
    let response;
    try {
      response = await route.fetch();
    } catch (error) {
      problems.push(`server: ${path}: ${error.message.split('\n')[0]}`);
      return route.abort();
    }
    if (path === PAGE) {
      const html = (await response.text()).replace(
        /<script type="importmap">[\s\S]*?<\/script>/,
        `<script type="importmap">${mapJson}</script>`,
      );
      return route.fulfill({ response, body: html, headers: { ...response.headers(), ...ISOLATION } });
    }
    return route.fulfill({ response, headers: { ...response.headers(), ...ISOLATION } });
  });
}

// A fresh heap for every measurement: the library cannot free a kernel.
export async function reload(page) {
  await page.reload();
  await waitForBench(page);
}
