// Loads the Emscripten module once per realm. Browsers fetch the .wasm beside
// this file; Node cannot fetch file URLs, so there we read it ourselves.
import createPeerComputeCore from './peercompute-core.js';

let corePromise = null;

function isNode() {
  return typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
}

export function loadCore() {
  corePromise ??= (async () => {
    if (!isNode()) return createPeerComputeCore();
    const fsModule = 'node:fs/promises';
    const { readFile } = await import(/* @vite-ignore */ fsModule);
    const wasmBinary = await readFile(new URL('./peercompute-core.wasm', import.meta.url));
    return createPeerComputeCore({ wasmBinary });
  })();
  return corePromise;
}
