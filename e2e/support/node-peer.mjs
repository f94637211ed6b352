// A Node.js peer for the e2e tests, in a process of its own: the package's
// node, over real WebRTC (node-datachannel), driven by the test through JSON
// lines. Each line on stdin is a command {id, op, ...}; each reply on stdout
// is {id, ok, value} or {id, ok: false, error}. The node itself is the one an
// app gets from the built package (dist/peercompute.js).
//   node e2e/support/node-peer.mjs
// Ops: start {config}, write {key, value}, read {key}, peers, send {peer,
// message, binary, reliable}, heard, status, setPresence {value}, presence,
// submit {task, inputs, options}, stop. Binary messages travel as arrays of
// byte values in these lines.
import { createInterface } from 'node:readline';
import { createNode } from '../../dist/peercompute.js';

let node = null;
const heard = [];

const ops = {
  async start({ config }) {
    node = await createNode(config);
    node.getNetworkManager().addMessageHandler((peerId, message) =>
      heard.push({ peerId, message: message instanceof Uint8Array ? { bytes: [...message] } : message }),
    );
    await node.start();
    return node.nodeId;
  },
  write: ({ key, value }) => node.getStateManager().write(key, value),
  read: ({ key }) => node.getStateManager().read(key) ?? null,
  peers: () => node.getNetworkManager().getConnectedPeers().map((p) => p.peerId),
  send: ({ peer, message, binary, reliable = true }) =>
    node.getNetworkManager().sendToPeer(peer, binary ? new Uint8Array(message) : message, { reliable }),
  heard: () => heard,
  status: () => node.getStatus(),
  setPresence: ({ value }) => node.getStateManager().setPresence(value),
  presence: () => node.getStateManager().getPresence(),
  async submit({ task, inputs, options }) {
    const job = node.getComputeManager().submitJob(task, inputs, options);
    const outputs = await job.result;
    return { outputs: outputs.map((o) => (o instanceof Uint32Array ? [...o] : o)), byPeer: job.stats.unitsByPeer };
  },
  async stop() {
    await node?.stop();
    return true;
  },
};

const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const { id, op, ...args } = JSON.parse(line);
  try {
    reply({ id, ok: true, value: (await ops[op](args)) ?? null });
  } catch (error) {
    reply({ id, ok: false, error: error.message });
  }
});
// The test closes stdin when done: stop, and let the process end by itself.
lines.on('close', async () => {
  await node?.stop();
});
