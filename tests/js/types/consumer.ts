// Compiled with tsc --noEmit against dist/peercompute.d.ts: the declarations
// must describe the API as an application uses it.
import { createNode, DEFAULT_CONFIG, NodeKernel, VERSION, type JsonValue, type PeerInfo } from '../../../dist/peercompute.js';

async function main(): Promise<void> {
  const node: NodeKernel = await createNode({ roomId: 'game-1', iceServers: [{ urls: 'stun:stun.example.org' }] });
  await node.start();
  const state = node.getStateManager();
  state.write('player', { x: 1, y: 2, name: 'ada' });
  const value: JsonValue | undefined = state.read('player');
  const stop = state.subscribe('*', (v, key) => console.log(key, v));
  stop();
  const written: true = await state.write('k', [1, 2]);
  const batched: number = await state.batchWrite({ a: 1, b: undefined });
  await state.writeScoped('players', 'ada', { hp: 3 });
  const hp: JsonValue | undefined = state.readScoped('players', 'ada');
  state.observeNamespace('players', (v, k) => console.log(k, v));
  state.setPresence({ cursor: [1, 2] });
  const present: Record<string, JsonValue> = state.getPresence();
  const update: Uint8Array = state.encodeStateAsUpdate(state.encodeStateVector());
  state.applyUpdate(update);
  await node.clearPersistence();
  console.log(written, batched, hp, present);
  const peers: PeerInfo[] = node.getNetworkManager().getConnectedPeers();
  const remove = node.getNetworkManager().addMessageHandler((peerId, message) => {
    if (message instanceof Uint8Array) console.log(peerId, message.byteLength);
    else console.log(peerId, message);
  });
  remove();
  const net = node.getNetworkManager();
  net.broadcast(new Float32Array([1, 2, 3]), { reliable: false });
  net.sendToPeer('pc-other', new ArrayBuffer(8));
  net.sendToPeer('pc-other', { hello: 'json' }, { reliable: true });
  const secured = new NodeKernel({
    gameId: 'my-game',
    roomId: 'lobby',
    password: 'secret',
    peerServer: { host: 'localhost', port: 9000, path: '/peerjs', secure: false, key: 'peerjs' },
  });
  const server = secured.getStatus().network.signalingServer;
  if (server) console.log(server.state === 'registered', server.serverId);
  const route: 'broadcast-channel' | 'peerjs-server' | null = peers[0]?.signaling ?? null;
  console.log(route);
  node.on('peer-connected', ({ peerId }) => console.log(peerId.toUpperCase()));
  node.on('state-changed', ({ key, deleted }) => console.log(key, deleted));
  const status = node.getStatus();
  const count: number = status.network.peerCount + status.state.keyCount;
  console.log(VERSION, DEFAULT_CONFIG.topology, value, peers, count);

  const compute = node.getComputeManager();
  const worker = new NodeKernel({ computeWorkers: 4, unitsQueuedPerWorker: 0, maxTaskDataBytes: 1 << 20, maxUnitMs: 10_000 });
  const budget: number = worker.config.maxUnitMs;
  const running: number = worker.getStatus().compute.running;
  console.log(running, budget);
  compute.registerTask('collatz', { module: '/tasks/collatz.js', export: 'longestChain' });
  const tiles = compute.submitJob('mandelbrot', [{ x0: -2, y0: -1, dx: 0.01, dy: 0.01, width: 64, height: 64, maxIter: 500 }], { redundancy: 2 });
  tiles.on('progress', ({ done, total, byPeer, index, output }) => console.log(done / total, byPeer, index, output.length));
  const images: Uint32Array[] = await tiles.result;
  const primes: number[] = await compute.submitJob('countPrimes', [{ from: 0, to: 100 }]).result;
  const custom = compute.submitJob<{ start: number; steps: number }>('collatz', [{ from: 1, to: 1000 }], { timeoutMs: 5000, maxAttempts: 2 });
  const cancelled: boolean = custom.cancel();
  const stats = custom.stats;
  const retried: number = stats.retries + stats.rejectedResults + Object.keys(stats.unitsByPeer).length;
  const one = await node.submitTask<number>({ id: 't1', type: 'countPrimes', data: { from: 0, to: 10 } });
  const caps = compute.getCapabilities();
  const workers: number = caps.workers + node.getStatus().compute.queued + node.getStatus().compute.completed;
  console.log(images.length, primes, cancelled, retried, one, caps.peers, workers);
  await node.stop();
}

void main;
