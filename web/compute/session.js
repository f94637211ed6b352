// This tab's node, how far it got, and the current render: what every part
// of the compute page reads.
import { PEER_CONFIG_URL } from '../shared/signaling-config.js';

export class ComputeSession {
  /** @type {import('/dist/peercompute.js').NodeKernel | null} */
  node = null;
  /** @type {import('/dist/peercompute.js').ComputeManager | null} once the node is initialized */
  compute = null;
  phase = 'starting'; // then 'running' or 'failed'
  bootError = null;
  /** @type {Promise<void> | null} resolves once the node runs; rejects if it never will */
  ready = null;
  // The PeerJS server the node uses, or null and why in signalingNote.
  /** @type {import('/dist/peercompute.js').PeerServerConfig | null} */
  peerServer = null;
  signalingNote = `waiting for ${PEER_CONFIG_URL}`;
  /** @type {import('./tile-render.js').TileRender | null} this tab's current (or last) render */
  current = null;
  /** @type {import('./remote-render.js').RemoteRender | null} a peer's render this tab helps with (or did) */
  remote = null;
  lastHash = null; // of the last render that completed

  constructor(roomId) {
    this.roomId = roomId;
  }

  // The render the page shows: this tab's own while it runs, else a peer's
  // that runs, else whichever began last.
  get shown() {
    const own = this.current;
    const peer = this.remote;
    if (own?.state === 'running') return own;
    if (peer?.state === 'running') return peer;
    if (!own || !peer) return own ?? peer;
    return own.startedAt >= peer.startedAt ? own : peer;
  }

  connectedIds() {
    return this.node?.isInitialized ? this.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId) : [];
  }

  capabilities() {
    return this.compute?.getCapabilities() ?? null;
  }
}
