// The page's node and how it signals. The node exists only once
// /peer-config.json has answered, so every panel reads it from here.
import { PEER_CONFIG_URL } from '../shared/signaling-config.js';

export class Session {
  /** @type {import('/dist/peercompute.js').NodeKernel | null} */
  node = null;
  booting = true;
  // The PeerJS server the node uses, or null and why in signalingNote.
  /** @type {import('/dist/peercompute.js').PeerServerConfig | null} */
  peerServer = null;
  signalingNote = `waiting for ${PEER_CONFIG_URL}`;

  constructor(room) {
    this.room = room;
  }

  // The managers exist from initialize() on; null before.
  get stateManager() {
    return this.node?.isInitialized ? this.node.getStateManager() : null;
  }

  get networkManager() {
    return this.node?.isInitialized ? this.node.getNetworkManager() : null;
  }
}
