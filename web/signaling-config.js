// The demo pages' signaling setup: the demo server describes its PeerJS
// server at /peer-config.json. Any failure (no server, a 404, a timeout, bad
// JSON) leaves a page on BroadcastChannel alone, with the reason.
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
    const reason = err?.name === 'AbortError' ? `no answer within ${PEER_CONFIG_TIMEOUT_MS} ms` : err?.message || String(err);
    return { server: null, reason: `${PEER_CONFIG_URL}: ${reason}` };
  } finally {
    clearTimeout(timer);
  }
}
