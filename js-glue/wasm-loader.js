// Loads the Emscripten module once per realm. The .wasm is fetched here, not
// by the Emscripten loader, so that a file that is not where it should be
// gives an Error naming its URL, the HTTP status and the option that fixes
// it. By default it sits beside this file; `assetBaseUrl` (a node option)
// names a copy of the package's dist/bundle/ folder instead. Node cannot fetch file
// URLs, so there it is read from disk.
import createPeerComputeCore from './peercompute-core.js';

let corePromise = null;

const HINT =
  'Serve the package\'s dist/bundle/peercompute-core.wasm there, or set the assetBaseUrl option to the URL of a copy of the package\'s dist/bundle/ folder ' +
  '(bundlers that do not copy the file beside their bundle, such as esbuild, need this).';

function isNode() {
  return typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
}

// assetBaseUrl: null, or the URL (ending in '/') of a copy of dist/bundle/. The
// first call in a realm decides; later ones share its module.
export function loadCore(assetBaseUrl = null) {
  corePromise ??= load(assetBaseUrl).catch((error) => {
    corePromise = null; // a later call may find it
    throw error;
  });
  return corePromise;
}

async function load(base) {
  // The literal form lets bundlers that follow `new URL(…, import.meta.url)` (Vite) ship the file.
  const url = base ? new URL('peercompute-core.wasm', base) : new URL('./peercompute-core.wasm', import.meta.url);
  if (isNode()) {
    const fsModule = 'node:fs/promises';
    const { readFile } = await import(/* @vite-ignore */ fsModule);
    let wasmBinary;
    try {
      wasmBinary = await readFile(url);
    } catch (error) {
      throw new Error(`peercompute: could not read its WebAssembly module at ${url}: ${error.code ?? error.message}. ${HINT}`);
    }
    return createPeerComputeCore({ wasmBinary });
  }
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (error) {
    throw new Error(`peercompute: could not fetch its WebAssembly module from ${url}: ${error.message}. ${HINT}`);
  }
  if (!response.ok) {
    throw new Error(`peercompute: could not load its WebAssembly module from ${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}. ${HINT}`);
  }
  const streaming = (response.headers.get('content-type') ?? '').startsWith('application/wasm');
  return new Promise((resolve, reject) => {
    createPeerComputeCore({
      // Compiled while it downloads where the server says it is wasm.
      instantiateWasm(imports, receive) {
        (streaming ? WebAssembly.instantiateStreaming(response, imports) : response.arrayBuffer().then((bytes) => WebAssembly.instantiate(bytes, imports)))
          .then(({ instance, module }) => receive(instance, module))
          .catch((error) => reject(new Error(`peercompute: the WebAssembly module from ${url} did not instantiate: ${error.message}. ${HINT}`)));
        return {};
      },
    }).then(resolve, reject);
  });
}
