// The demo pages' signaling setup: the demo server describes its PeerJS
// server at /peer-config.json. Any failure (no server, a 404, a timeout, bad
// JSON) leaves a page on BroadcastChannel alone, with the reason.
import { NodeKernel } from '/dist/peercompute.js';

export const PEER_CONFIG_URL = '/peer-config.json';
const PEER_CONFIG_TIMEOUT_MS = 2000;

// Resolves to {server, reason}: the server's {host, port, path, secure, key},
// or null and why not.
export async function loadPeerServer() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PEER_CONFIG_TIMEOUT_MS);
  try {
    const response = await fetch(PEER_CONFIG_URL, { cache: 'no-store', signal: controller.signal });
    if (!response.ok) return { server: null, reason: `${PEER_CONFIG_URL} answered HTTP ${response.status}` };
    const body = await response.json();
    if (!body || typeof body !== 'object') return { server: null, reason: `${PEER_CONFIG_URL} is not an object` };
    // Only the fields the node knows: it refuses unknown options.
    const { host, port, path, secure, key } = body;
    return { server: { host, port, path, secure, key }, reason: null };
  } catch (err) {
    const reason = err.name === 'AbortError' ? `no answer within ${PEER_CONFIG_TIMEOUT_MS} ms` : err.message;
    return { server: null, reason: `${PEER_CONFIG_URL}: ${reason}` };
  } finally {
    clearTimeout(timer);
  }
}

// A node with the demo server's PeerJS server when there is one it accepts,
// else on BroadcastChannel alone. Resolves to {node, peerServer, signalingNote}
// (peerServer null, and why in signalingNote); throws if no node can be made.
export async function createSignaledNode(config) {
  const { server, reason } = await loadPeerServer();
  let signalingNote = reason;
  if (server) {
    try {
      return { node: new NodeKernel({ ...config, peerServer: server }), peerServer: server, signalingNote: null };
    } catch (err) {
      signalingNote = `the node refused the server in ${PEER_CONFIG_URL}: ${err.message}`;
    }
  }
  return { node: new NodeKernel(config), peerServer: null, signalingNote };
}

export function serverUrl(server) {
  return `${server.secure ? 'wss' : 'ws'}://${server.host}:${server.port}${server.path}`;
}
