// The PeerJS signaling server (scripts/signaling-server.mjs, the unmodified
// npm `peer`) started inside a bench process, on the first free port of
// 9190-9199, and the peerServer option that points a node at it.
import { peerConfig, startSignalingServer } from '../../scripts/signaling-server.mjs';
import { SIGNALING_PORTS, freePortIn } from './ports.mjs';

const HOST = '127.0.0.1';

export async function startBenchSignalingServer() {
  // The port is probed first: the server's listen error is not reported
  // through startSignalingServer's promise. A port taken in between fails
  // the run rather than hanging it.
  const port = await freePortIn(...SIGNALING_PORTS, { host: HOST, fallback: false });
  const server = await startSignalingServer({ port, host: HOST });
  return { port: server.port, peerServer: peerConfig(HOST, server.port), close: () => server.close() };
}
