// Compiled with tsc --noEmit against dist/peercompute.d.ts: the declarations
// must describe the API as an application uses it.
import { createNode, DEFAULT_CONFIG, NodeKernel, VERSION, type JsonValue, type PeerInfo } from '../../../dist/peercompute.js';

// App code types its values with interfaces; the API takes them, checks them
// as JSON, and hands them back typed.
interface Player {
  name: string;
  pos: { x: number; y: number };
  tags?: string[];
  joinedAt: Date; // JSON.stringify calls its toJSON()
}
interface Range {
  from: number;
  to: number;
}
interface Chain {
  start: number;
  steps: number;
}

async function typedApp(node: NodeKernel): Promise<void> {
  const state = node.getStateManager();
  const ada: Player = { name: 'ada', pos: { x: 1, y: 2 }, joinedAt: new Date() };
  await state.write('player:ada', ada);
  await state.writeScoped('players', 'ada', ada);
  const back: Player | undefined = state.read<Player>('player:ada');
  const scoped: Player | undefined = state.readScoped<Player>('players', 'ada');
  state.subscribe<Player>('player:ada', (p) => console.log(p?.pos.x));
  state.observeNamespace<Player>('players', (p, key) => console.log(key, p?.name));
  await state.batchWrite({ 'player:bob': { ...ada, name: 'bob' }, gone: undefined });
  state.setPresence({ cursor: ada.pos });
  node.getNetworkManager().sendToPeer('pc-other', ada);
  node.getNetworkManager().broadcast(new Uint8Array(4));
  // Not JSON: each is refused where it is written.
  // @ts-expect-error a function is not JSON
  await state.write('f', { name: 'x', run: () => 1 });
  // @ts-expect-error a bigint is not JSON
  await state.write('b', 10n);
  // @ts-expect-error a symbol is not JSON
  node.getNetworkManager().sendToPeer('pc-other', { s: Symbol('x') });

  const compute = node.getComputeManager();
  const ranges: Range[] = [{ from: 1, to: 1000 }];
  const job = compute.submitJob<Chain>('collatz', ranges);
  const chains: Chain[] = await job.result;
  job.on('progress', ({ output }) => console.log(output.steps));
  const one: Chain = await node.submitTask<Chain>({ type: 'collatz', data: ranges[0] });
  console.log(back, scoped, chains, one);
}
void typedApp;

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
  // Node.js: the state on disk under a directory, one LevelDB database per room.
  const keeper: NodeKernel = await createNode({ roomId: 'game-1', dataDir: './.peercompute' });
  const persisted: boolean = keeper.getStatus().state.hasPersistence;
  // @ts-expect-error dataDir is a path string
  await createNode({ dataDir: 42 });
  console.log(written, batched, hp, present, persisted);
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
