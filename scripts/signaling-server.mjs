// The unmodified PeerJS signaling server (npm `peer`), as PeerCompute nodes
// expect it: path /peerjs, key 'peerjs', and allow_discovery so that a node
// can list the ids registered on it and find its room.
//
//   node scripts/signaling-server.mjs       # SIGNAL_PORT (default 9000), HOST (default 127.0.0.1)
import { PeerServer } from 'peer';
import { fileURLToPath } from 'node:url';

export const SIGNALING_PATH = '/peerjs';

export function startSignalingServer({ port = 9000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const app = PeerServer({ port, host, path: SIGNALING_PATH, allow_discovery: true }, (server) => {
      server.off('error', reject);
      resolve({
        port: server.address().port,
        app,
        // Closes the listener and every socket, as a crashed server would.
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    app.on('error', () => {});  // a client's malformed frame must not take the server down
  });
}

// The description pages fetch from /peer-config.json.
export function peerConfig(host, port) {
  return { host, port, path: SIGNALING_PATH, secure: false, key: 'peerjs' };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.SIGNAL_PORT ?? 9000);
  const host = process.env.HOST ?? '127.0.0.1';
  const server = await startSignalingServer({ port, host });
  console.log(`PeerJS signaling server: ws://${host}:${server.port}${SIGNALING_PATH} (pid ${process.pid})`);
}
