// The PeerJS server's WebSocket in Node.js. Node has a global WebSocket from
// version 22; before that the package `ws`, an optional peer dependency whose
// WebSocket speaks the browser's API (onopen, onmessage with text as
// strings, readyState). Imported only here, only in Node and only when the
// node has a peerServer, by a specifier that bundlers do not follow.

import { importModule, importOptional, installCommand } from '../optional-import.js';

const PACKAGE = 'ws';
export const WS_INSTALL = installCommand(PACKAGE);

// The WebSocket class: the global one where there is one, else ws's; or an
// Error that names the package to install. importPackage(name) imports a
// module; tests replace it to simulate a missing package.
export async function loadNodeWebSocket(env = globalThis, importPackage = importModule) {
  if (typeof env.WebSocket === 'function') return env.WebSocket;
  const module = await importOptional(PACKAGE, 'the peerServer option needs a WebSocket, which Node.js has from version 22; here it comes from', { importPackage });
  const WebSocket = module.WebSocket ?? module.default?.WebSocket ?? module.default;
  if (typeof WebSocket !== 'function') throw new Error(`the package ${PACKAGE} has no WebSocket class; install version 8: ${WS_INSTALL}`);
  return WebSocket;
}
