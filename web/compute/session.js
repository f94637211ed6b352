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
  /** @type {import('./tile-render.js').TileRender | null} the current (or last) render */
  current = null;
  lastHash = null; // of the last render that completed

  constructor(roomId) {
    this.roomId = roomId;
  }

  connectedIds() {
    return this.node?.isInitialized ? this.node.getNetworkManager().getConnectedPeers().map((p) => p.peerId) : [];
  }

  capabilities() {
    return this.compute?.getCapabilities() ?? null;
  }
}
