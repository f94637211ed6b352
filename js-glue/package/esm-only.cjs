// What `require('peercompute')` loads: the package is an ES module only (its
// wasm and Web Workers are found through import.meta.url), so say how to
// load it instead of failing with ERR_PACKAGE_PATH_NOT_EXPORTED.
throw new Error(
  "peercompute is an ES module and cannot be loaded with require(). Use `import { createNode } from 'peercompute'`, " +
    "or from CommonJS `const { createNode } = await import('peercompute')`.",
);
