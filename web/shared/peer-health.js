// How a peer link is doing, from what getPeers() reports of it: its
// connection state, the round trip of its last ping and when anything was
// last heard from it. The node pings every second and drops a peer after
// about 5 s of silence, so two seconds without a word is already a warning.
import { epochNow } from './format.js';

const SLOW_RTT_MS = 150;
const QUIET_MS = 2000;

export const HEALTH_LABELS = {
  good: 'healthy',
  slow: `slow (RTT over ${SLOW_RTT_MS} ms)`,
  quiet: `quiet (nothing heard for ${QUIET_MS / 1000} s)`,
  connecting: 'connecting',
  left: 'left',
};

// peer: a PeerInfo of getPeers(); returns a key of HEALTH_LABELS.
export function peerHealth(peer, now = epochNow()) {
  if (peer.state !== 'connected') return 'connecting';
  if (peer.lastHeardAt !== null && now - peer.lastHeardAt > QUIET_MS) return 'quiet';
  if (peer.rttMs !== null && peer.rttMs > SLOW_RTT_MS) return 'slow';
  return 'good';
}

// How the link was set up: 'broadcast-channel', 'peerjs-server' or 'unknown'.
export function peerRoute(peer) {
  return peer.signaling ?? 'unknown';
}

export const ROUTE_LABELS = {
  'broadcast-channel': 'BroadcastChannel (same browser)',
  'peerjs-server': 'PeerJS server (any browser)',
  unknown: 'not yet known',
};
