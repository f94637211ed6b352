// `peercompute keep`: a node that holds a room for as long as it runs. It
// joins the room through a PeerJS server, keeps the room's state on disk
// (LevelDB under --data-dir) and runs compute units for the room's peers.
//
// Nothing is created until every argument is known to be good: the password
// file is read and the options checked by the node's own config rules
// before the data directory is made.
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createReporter, describeServer, summarize } from './status.js';
import { UsageError } from './args.js';

// The flag behind each config option, for the node's own config errors.
const FLAG_OF = { roomId: '--room', gameId: '--game', password: '--password-file', dataDir: '--data-dir', computeWorkers: '--workers', peerServer: '--server' };

// A failure at run time (not in the arguments): printed, exit code 1.
export class KeepError extends Error {}

const TICK_MS = 250; // how often the status is read (server state, durability)

export function readPasswordFile(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KeepError(`--password-file: cannot read ${resolve(file)}: ${error.code ? `${error.code}: ` : ''}${osReason(error)}`);
  }
  // One line, as `echo secret > file` writes it: the newline is not the password's.
  const password = text.replace(/\r?\n$/, '');
  if (password.length === 0) throw new KeepError(`--password-file: ${resolve(file)} is empty`);
  return password;
}

function osReason(error) {
  // "ENOENT: no such file or directory, open 'x'" -> "no such file or directory"
  return String(error.message).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

// The node, checked but not initialized: its constructor applies the
// library's config rules, and an error there names the flag.
function makeNode(NodeKernel, config) {
  try {
    return new NodeKernel(config);
  } catch (error) {
    const match = /^config\.(\w+)/.exec(error.message);
    if (match && FLAG_OF[match[1]]) throw new UsageError(`${FLAG_OF[match[1]]}: ${error.message.replace(/^config\.[\w.]+: /, '')}`);
    throw error;
  }
}

function makeDataDir(dir) {
  const path = resolve(dir);
  let stat = null;
  try {
    stat = statSync(path);
  } catch (error) {
    if (error.code !== 'ENOENT') throw new KeepError(`--data-dir: cannot use ${path}: ${osReason(error)}`);
  }
  if (stat && !stat.isDirectory()) throw new KeepError(`--data-dir: ${path} exists and is not a directory`);
  if (stat) return { path, created: null };
  try {
    // The first directory mkdir made, if any: what to remove if the keeper cannot start.
    return { path, created: mkdirSync(path, { recursive: true }) ?? null };
  } catch (error) {
    throw new KeepError(`--data-dir: cannot create ${path}: ${osReason(error)}`);
  }
}

// Runs until SIGINT or SIGTERM; resolves to the exit code.
export async function keep(options, { loadPackage = () => import('peercompute'), out = process.stdout } = {}) {
  const password = options.passwordFile === null ? null : readPasswordFile(options.passwordFile);
  const { NodeKernel } = await loadPackage();
  const node = makeNode(NodeKernel, {
    roomId: options.roomId,
    gameId: options.gameId,
    password,
    peerServer: options.peerServer,
    dataDir: options.dataDir,
    computeWorkers: options.computeWorkers ?? undefined,
  });
  const made = makeDataDir(options.dataDir);
  const dataDir = made.path;
  const { host, port, path, secure } = options.peerServer;
  const url = `${secure ? 'wss' : 'ws'}://${host}:${port}${path}`;
  const report = createReporter({ json: options.json, out });

  try {
    await node.initialize(); // the stored state is back; a held database fails here, naming its LOCK file
  } catch (error) {
    // A directory made by this run holds nothing yet (classic-level missing, say): leave no trace.
    if (made.created) rmSync(made.created, { recursive: true, force: true });
    throw new KeepError(error.code === 'PEERCOMPUTE_DATA_DIR_LOCKED' ? `--data-dir: ${error.message}` : error.message);
  }
  const state = node.getStateManager();

  // Stop on the first signal; a second one while stopping gives up at once.
  let stopping = null;
  const stopped = new Promise((resolveStop) => {
    const onSignal = (signal) => {
      if (stopping) {
        process.stderr.write(`peercompute keep: ${signal} again while stopping; exiting without waiting\n`);
        process.exit(1);
      }
      stopping = signal;
      resolveStop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  try {
    await node.start(); // in Node: node-datachannel and, before Node 22, ws, named if missing
  } catch (error) {
    throw new KeepError(error.message);
  }
  const workers = node.getStatus().compute.workers;
  report.event('ready', { nodeId: node.nodeId, roomId: options.roomId, gameId: options.gameId, dataDir, server: url, workers, keys: node.getStatus().state.keyCount });
  node.on('peer-connected', ({ peerId }) => report.event('peer-connected', { peerId }));
  node.on('peer-disconnected', ({ peerId, reason }) => report.event('peer-disconnected', { peerId, reason }));

  // Durability: an empty batchWrite() resolves once every record handed to
  // storage before it is written (the store settles in append order), which
  // covers what peers sent too. Whenever the state's version moved, one such
  // barrier runs, and then a "stored" event says which version is on disk.
  let storedVersion = state.getStats().version;
  let barrier = null;
  const persist = () => {
    const version = state.getStats().version;
    if (barrier || version === storedVersion) return barrier;
    barrier = state.batchWrite({}).then(() => {
      storedVersion = version;
      barrier = null;
      report.event('stored', { version, keys: node.getStatus().state.keyCount });
    });
    return barrier;
  };

  // The server's state: an event each time it changes (each retry included).
  let lastServer = '';
  let lastStatusAt = 0;
  const tick = () => {
    const status = node.getStatus();
    const summary = summarize(status);
    const server = summary.server;
    const key = server ? `${server.state}/${server.reconnects}/${server.lastError}` : '';
    if (key !== lastServer) {
      lastServer = key;
      report.event('server', { url, ...server, message: describeServer(server, url) });
    }
    if (report.statusIntervalMs && Date.now() - lastStatusAt >= report.statusIntervalMs) {
      lastStatusAt = Date.now();
      report.status(summary, url);
    }
    persist();
  };
  tick();
  const timer = setInterval(tick, TICK_MS);

  const signal = await stopped;
  clearInterval(timer);
  report.close();
  report.event('stopping', { signal });
  await node.stop(); // leaves the room: every connection closed, the server told
  // What arrived before the stop is handed to storage by now; wait until it is written.
  while (persist()) await barrier;
  const { server, ...totals } = summarize(node.getStatus()); // keys, peers, bytes, units: the run's totals
  report.event('stopped', { signal, dataDir, ...totals, version: storedVersion });
  return 0;
}
