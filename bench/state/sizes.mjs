// 4. size: the gzipped size of what a page loads, ours (the dist/ snapshot)
// against yjs.mjs and the lib0 files it imports.
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { root } from '../support/project.mjs';
import { note, row } from './report.mjs';

// Yjs's published size, from dmonad/crdt-benchmarks' README.
const PUBLISHED_YJS_GZIP = 'about 20 KB (crdt-benchmarks, minified bundle)';

const gzipSize = (buffer) => gzipSync(buffer, { level: 9 }).length;

// The static import graph of an ES module, resolving bare specifiers with the
// page's import map: the files a browser actually fetches.
function moduleGraph(entryFile, importMap) {
  const seen = new Set();
  const pending = [entryFile];
  const staticImport = /(?:^|[;\n}])\s*(?:import|export)\s*(?:[\w*${},\s]+?\s*from\s*)?['"]([^'"\n]+)['"]/g;
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(staticImport)) {
      const spec = m[1];
      let target;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        target = resolve(dirname(file), spec);
      } else if (importMap.imports[spec]) {
        target = join(root, importMap.imports[spec]);
      } else {
        throw new Error(`size: cannot resolve '${spec}' imported by ${relative(root, file)}`);
      }
      pending.push(target);
    }
  }
  return [...seen];
}

function measureSizes(importMap, snapshot) {
  const files = [...snapshot.files.keys()].map((f) => join(root, f));
  const contents = (f) => snapshot.files.get(relative(root, f).split(sep).join('/')) ?? readFileSync(f);
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  const js = files.filter((f) => extname(f) === '.js');
  const sizeOf = (list) => list.reduce((s, f) => s + gzipSize(contents(f)), 0);
  const rawOf = (list) => list.reduce((s, f) => s + contents(f).length, 0);
  const yjsEntry = join(root, 'node_modules', 'yjs', 'dist', 'yjs.mjs');
  const graph = moduleGraph(yjsEntry, importMap);
  const lib0 = graph.filter((f) => f !== yjsEntry);
  return {
    method: 'each file gzipped on its own with zlib level 9, sizes summed',
    ours: {
      wasmGzip: sizeOf(wasm),
      jsGzip: sizeOf(js),
      totalGzip: sizeOf(wasm) + sizeOf(js),
      wasmRaw: rawOf(wasm),
      jsRaw: rawOf(js),
      files: [...wasm, ...js].map((f) => relative(root, f)),
    },
    yjs: {
      yjsMjsGzip: gzipSize(readFileSync(yjsEntry)),
      yjsMjsRaw: statSync(yjsEntry).size,
      withImportsGzip: sizeOf(graph),
      withImportsRaw: rawOf(graph),
      importedFiles: lib0.map((f) => relative(root, f)),
    },
  };
}

// Measures the sizes, and adds the results and rows.
export function sizeSection(importMap, snapshot, { results, rows }) {
  const sizes = measureSizes(importMap, snapshot);
  results.size = sizes;
  rows.push(note(`4. gzipped size (zlib level 9, each file on its own, summed)`));
  const total = row('dist/ wasm + all .js vs yjs.mjs', sizes.ours.totalGzip, sizes.yjs.yjsMjsGzip, 'bytes');
  rows.push(total);
  rows.push(row('ref: dist/ vs yjs.mjs + lib0 it imports', sizes.ours.totalGzip, sizes.yjs.withImportsGzip, 'bytes'));
  rows.push(row('ref: wasm only vs yjs.mjs', sizes.ours.wasmGzip, sizes.yjs.yjsMjsGzip, 'bytes'));
  rows.push(row('ref: js only vs yjs.mjs', sizes.ours.jsGzip, sizes.yjs.yjsMjsGzip, 'bytes'));
  rows.push(
    note(
      `Yjs published: ${PUBLISHED_YJS_GZIP}; yjs.mjs and lib0 here are unminified ESM (${sizes.yjs.importedFiles.length} lib0/` +
        `isomorphic.js files), dist/ is unminified JS + a release wasm (${sizes.ours.wasmRaw.toLocaleString('en-US')} B raw)`,
    ),
  );
}
