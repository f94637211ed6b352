// A Node.js peer in a process of its own, for the keeper's tests and the
// e2e tests with a tab (e2e/node-peer.spec.js): the built
// package's node, driven through JSON lines. Each line on stdin is a command
// {id, op, ...}; each reply on stdout is {id, ok, value} or {id, ok: false,
// error}. When the test closes stdin, the node stops and the process ends
// by itself.
//   node json-peer.mjs
// Ops: start {config}, write {key, value}, read {key}, keys, waitPeer {peerId},
// waitKeys {keys}, peers, send {peer, message, binary, reliable}, heard,
// setPresence {value}, presence, submit {task, inputs, options}, status,
// stop. Binary messages travel as arrays of byte values in these lines, and
// so do Uint32Array outputs.
import { createInterface } from 'node:readline';
import { createNode } from '../../../dist/peercompute.js';

let node = null;
const heard = []; // {peerId, message}: binary as {bytes: [...]}
const until = (test, what, ms = 15_000) =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const poll = () => {
      if (test()) resolve(true);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 25);
    };
    poll();
  });

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
  keys: () => node.getStateManager().keys(),
  waitPeer: ({ peerId }) => until(() => node.getNetworkManager().getConnectedPeers().some((p) => p.peerId === peerId), `peer ${peerId}`),
  waitKeys: ({ keys }) => until(() => keys.every((k) => node.getStateManager().has(k)), `keys ${keys.join(', ')}`),
  peers: () => node.getNetworkManager().getConnectedPeers().map((p) => p.peerId),
  send: ({ peer, message, binary, reliable = true }) =>
    node.getNetworkManager().sendToPeer(peer, binary ? new Uint8Array(message) : message, { reliable }),
  heard: () => heard,
  setPresence: ({ value }) => node.getStateManager().setPresence(value),
  presence: () => node.getStateManager().getPresence(),
  async submit({ task, inputs, options }) {
    const job = node.getComputeManager().submitJob(task, inputs, options);
    const outputs = await job.result;
    return { outputs: outputs.map((o) => (ArrayBuffer.isView(o) ? [...o] : o)), byPeer: job.stats.unitsByPeer };
  },
  status: () => node.getStatus(),
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
lines.on('close', async () => {
  await node?.stop();
});
