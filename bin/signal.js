// `peercompute signal`: the unmodified PeerJS server (npm `peer`) as the
// nodes expect it: path /peerjs, key 'peerjs', and allow_discovery, so that a
// node can list the ids registered on it and find its room. The same server
// as scripts/signaling-server.mjs, which is not shipped in the package.
import { SIGNALING_PATH } from './args.js';

export class SignalError extends Error {}

// Bundlers and the package's own tests need not know this import.
const importModule = (specifier) => import(specifier);

async function loadPeerServer(importPackage) {
  try {
    const peer = await importPackage('peer');
    return peer.PeerServer ?? peer.default?.PeerServer;
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new SignalError('peercompute signal runs the PeerJS server from the package peer, which is not installed. Install it beside peercompute: npm i peer');
    }
    throw new SignalError(`the package peer could not be loaded (${error?.message ?? error}). Reinstall it: npm i peer`);
  }
}

// Resolves to {port, close()} once the server listens.
export async function startSignalServer({ port, host }, { importPackage = importModule } = {}) {
  const PeerServer = await loadPeerServer(importPackage);
  return new Promise((resolve, reject) => {
    let listening = false;
    const app = PeerServer({ port, host, path: SIGNALING_PATH, allow_discovery: true }, (server) => {
      listening = true;
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    // The HTTP server's errors reach the app through PeerJS's WebSocket
    // server: before listening, a port in use or not allowed; after, a
    // client's malformed frame, which must not take the server down.
    app.on('error', (error) => {
      if (!listening) reject(new SignalError(`--port: cannot listen on ${host}:${port}: ${error.code ? `${error.code} ` : ''}${error.message}`));
    });
  });
}

// Runs until SIGINT or SIGTERM; resolves to the exit code.
export async function signal(options, { importPackage, out = process.stdout } = {}) {
  const server = await startSignalServer(options, { importPackage });
  out.write(`PeerJS signaling server: ws://${options.host}:${server.port}${SIGNALING_PATH} (allow_discovery, key peerjs; pid ${process.pid})\n`);
  const signal = await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // The PeerJS server's own timers never end: the caller exits the process.
  await Promise.race([server.close(), new Promise((done) => setTimeout(done, 1000))]);
  out.write(`${signal}: signaling server stopped\n`);
  return 0;
}
