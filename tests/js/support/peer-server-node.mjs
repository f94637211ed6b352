// One Node.js node in a process of its own, meeting its room through a PeerJS
// server only (a BroadcastChannel does not cross processes):
//   node peer-server-node.mjs PORT ROOM NAME
// It writes its key, waits for one peer and that peer's key, sends it a
// message and waits for the peer's, then prints what it saw as one JSON line,
// stops and lets the process end by itself (a handle left open would keep
// it alive, and the test would time out).
import { createNode } from '../../../dist/peercompute.js';

const [port, room, name] = process.argv.slice(2);
const node = await createNode({
  roomId: room,
  nodeId: name,
  enablePersistence: false,
  peerServer: { host: '127.0.0.1', port: Number(port), path: '/peerjs', secure: false, key: 'peerjs' },
});
const until = (test) =>
  new Promise((resolve) => {
    const poll = () => (test() ? resolve() : setTimeout(poll, 25));
    poll();
  });

const heard = [];
node.getNetworkManager().addMessageHandler((peerId, message) => heard.push({ peerId, message }));
await node.start();
node.getStateManager().write(`from/${name}`, { name, pid: process.pid });
await until(() => node.getNetworkManager().getConnectedPeers().length === 1);
const [peer] = node.getNetworkManager().getConnectedPeers();
await until(() => node.getStateManager().read(`from/${peer.peerId}`) !== undefined);
node.getNetworkManager().sendToPeer(peer.peerId, { hello: peer.peerId, from: name });
await until(() => heard.length > 0);
const status = node.getStatus();
// Long enough for the peer to have our message before we leave.
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(
  JSON.stringify({
    peer: peer.peerId,
    theirs: node.getStateManager().read(`from/${peer.peerId}`),
    heard,
    server: status.network.signalingServer,
  }),
);
await node.stop();
