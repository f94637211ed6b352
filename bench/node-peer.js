// The tab's side of bench/node-peer.mjs: a library node that echoes every
// message and counts bulk bytes, and a raw RTCPeerConnection that answers
// the Node process's offer and does the same over a raw data channel. The
// Node side times everything; the tab only answers.
import { createNode } from '/dist/peercompute.js';

let node = null;
let raw = null;
// Bulk: bytes received since reset; a message whose first byte is 1 ends a
// transfer and is answered with the count.
let bulkBytes = 0;

function onBulkOrEcho(bytes, reply) {
  if (bytes[0] === 0) {
    bulkBytes += bytes.length;
    return;
  }
  reply(new Uint8Array(new Float64Array([bulkBytes]).buffer));
  bulkBytes = 0;
}

window.bench = {
  ready: true,

  // A library node in `room`, through the PeerJS server: echoes JSON, and
  // counts binary (bulk) messages.
  async startNode(room, peerServer) {
    node = await createNode({ roomId: room, enablePersistence: false, computeWorkers: 0, peerServer });
    const network = node.getNetworkManager();
    network.addMessageHandler((peerId, message) => {
      if (message instanceof Uint8Array) onBulkOrEcho(message, (answer) => network.sendToPeer(peerId, answer));
      else network.sendToPeer(peerId, message);
    });
    await node.start();
    return node.nodeId;
  },

  connectedTo(peerId) {
    return node.getNetworkManager().getConnectedPeers().some((p) => p.peerId === peerId);
  },

  networkStatus() {
    return node.getStatus().network;
  },

  async stopNode() {
    await node?.stop();
    node = null;
  },

  // The raw reference: answers the Node process's offer (candidates
  // gathered into the SDP), and echoes text or counts binary on the channel.
  async rawAnswer(offer) {
    raw?.close();
    raw = new RTCPeerConnection();
    raw.ondatachannel = ({ channel }) => {
      channel.binaryType = 'arraybuffer';
      channel.onmessage = ({ data }) => {
        if (typeof data === 'string') channel.send(data);
        else onBulkOrEcho(new Uint8Array(data), (answer) => channel.send(answer));
      };
    };
    await raw.setRemoteDescription(offer);
    await raw.setLocalDescription(await raw.createAnswer());
    if (raw.iceGatheringState !== 'complete') {
      await new Promise((resolve) => raw.addEventListener('icegatheringstatechange', () => raw.iceGatheringState === 'complete' && resolve()));
    }
    return { type: 'answer', sdp: raw.localDescription.sdp };
  },

  rawClose() {
    raw?.close();
    raw = null;
  },
};
