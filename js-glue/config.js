// Node configuration: defaults, validation, and what the kernel is told.
// An option this version does not honour is refused with a clear error rather
// than silently ignored. The limits are the kernel's own (KERNEL_RULES, built
// from wasm/kernel/node_config.cpp), so a config passes here exactly when the
// kernel will take it; only what the kernel never sees (password, gameId's
// type, iceServers, the peer server's address form) is checked here alone.
import { KERNEL_RULES } from './rules/kernel-rules.js';
import { utf8Length } from './json-value.js';
import { runsInNodeJs } from './environment.js';

export const DEFAULT_CONFIG = Object.freeze({
  nodeId: null, // generated when null
  roomId: 'default',
  gameId: null, // the app's namespace, as the original called it; rooms of different games never meet
  password: null, // a room password: signals are encrypted and peers prove it before anything flows
  topology: 'mesh',
  enablePersistence: true, // the original's default
  // Node.js only: the directory under which the state is kept on disk, one
  // LevelDB database per room (needs the package classic-level). null: in
  // Node, the state stays in memory; a library does not write into the
  // working directory, nor need a native package, unless asked to.
  dataDir: null,
  peerServer: null, // {host, port, path, secure, key} of a PeerJS server; null: BroadcastChannel only
  iceServers: Object.freeze([]),
  announceIntervalMs: 2000,
  connectTimeoutMs: 15000,
  pingIntervalMs: 1000,
  peerTimeoutMs: 4000, // silent this long, with a ping unanswered: gone. With 1 s pings, a vanished peer goes within 5 s
  maxConnections: 32, // connections held at most, counting those being set up; no signal can make the node open more
  computeWorkers: null, // Web Workers that run compute units; null: one less than the cores, at least 1. 0: run none
  // The longest one unit run for a peer may take in this node's Web Worker:
  // past it the worker is stopped and the peer gets an error. Units of this
  // node's own jobs have no budget. Only Web Workers can be stopped: where
  // units run inline (Node), a unit runs to its end whatever this says.
  maxUnitMs: 60_000,
  maxTaskDataBytes: 16 * 1024 * 1024, // the largest task input or result, encoded
  // Units each worker is handed beyond the one it runs, so it starts the next
  // without waiting for the page. null: 1 where there are Web Workers, else 0.
  // 0 costs a round trip per unit but never leaves a unit waiting in a busy
  // worker while another is idle: for few, long units.
  unitsQueuedPerWorker: null,
  // Where the package's assets are: null, beside the module (what the
  // package's own layout and bundlers that follow new URL(…, import.meta.url)
  // give); else the URL of a copy of the package's dist/bundle/ folder, from which
  // the .wasm and the compute worker are loaded.
  assetBaseUrl: null,
});

export function defaultComputeWorkers() {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 2;
  return Math.max(1, Math.min(8, cores - 1));
}

export function defaultUnitsQueuedPerWorker() {
  // Web Workers, or worker threads in Node.js.
  return typeof Worker === 'function' || runsInNodeJs() ? 1 : 0;
}

const RULES = KERNEL_RULES.config;
const TOPOLOGIES = RULES.topologies;
const NODE_ID = new RegExp(`^[${escapeForClass(RULES.nodeId.characters)}]{1,${RULES.nodeId.maxLength}}$`);
// The options the kernel bounds, with the ranges it applies.
const NUMBER_OPTIONS = ['announceIntervalMs', 'connectTimeoutMs', 'pingIntervalMs', 'peerTimeoutMs', 'maxConnections', 'maxUnitMs', 'computeWorkers', 'unitsQueuedPerWorker', 'maxTaskDataBytes'];
const NULLABLE = new Set(['computeWorkers', 'unitsQueuedPerWorker']); // null: a default for this host

export function escapeForClass(characters) {
  return characters.replace(/[\\\]^-]/g, '\\$&');
}

export function describeCharacters(characters) {
  const ranges = [['ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'A-Z'], ['abcdefghijklmnopqrstuvwxyz', 'a-z'], ['0123456789', '0-9']];
  let rest = characters;
  const parts = [];
  for (const [run, name] of ranges) {
    if (rest.includes(run)) {
      parts.push(name);
      rest = rest.replace(run, '');
    }
  }
  parts.push(...[...rest].map((c) => `'${c}'`));
  return `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}`;
}

function fail(option, message) {
  throw new TypeError(`config.${option}: ${message}`);
}

function checkNumber(config, option) {
  const rule = RULES.numbers[option];
  const v = config[option];
  if (rule.positive) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(option, `must be a positive number, got ${String(v)}`);
  } else if (!Number.isInteger(v) || v < rule.min || v > rule.max) {
    fail(option, `must be ${NULLABLE.has(option) ? 'null or ' : ''}an integer in ${rule.min}..${rule.max}, got ${String(v)}`);
  }
}

export function normalizeConfig(input = {}) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError('config must be an object');
  }
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_CONFIG)) fail(key, `unknown option; known options are ${Object.keys(DEFAULT_CONFIG).join(', ')}`);
  }
  const config = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };

  if (config.nodeId !== null && (typeof config.nodeId !== 'string' || !NODE_ID.test(config.nodeId))) {
    fail('nodeId', `must be 1-${RULES.nodeId.maxLength} characters of ${describeCharacters(RULES.nodeId.characters)}`);
  }
  if (typeof config.roomId !== 'string' || config.roomId.length === 0 || !config.roomId.isWellFormed()) {
    fail('roomId', 'must be a non-empty string of well-formed Unicode');
  }
  if (!TOPOLOGIES.includes(config.topology)) {
    fail('topology', `'${config.topology}' is not supported; use ${TOPOLOGIES.map((t) => `'${t}'`).join(' or ')}`);
  }
  if (config.gameId !== null && (typeof config.gameId !== 'string' || config.gameId.length === 0 || !config.gameId.isWellFormed())) {
    fail('gameId', 'must be null or a non-empty string of well-formed Unicode');
  }
  const roomBytes = utf8Length(effectiveRoom(config));
  if (roomBytes > RULES.room.maxBytes) {
    if (config.gameId === null) fail('roomId', `must be at most ${RULES.room.maxBytes} bytes of UTF-8, got ${roomBytes}`);
    fail('roomId', `with gameId, the room is JSON [gameId, roomId], which must be at most ${RULES.room.maxBytes} bytes of UTF-8, got ${roomBytes}`);
  }
  if (config.password !== null && (typeof config.password !== 'string' || config.password.length === 0 || config.password.length > 1024)) {
    fail('password', 'must be null or a non-empty string of at most 1024 characters');
  }
  if (config.peerServer !== null) config.peerServer = normalizePeerServer(config.peerServer);
  if (typeof config.enablePersistence !== 'boolean') fail('enablePersistence', 'must be a boolean');
  if (config.dataDir !== null) checkDataDir(config);
  if (!Array.isArray(config.iceServers)) fail('iceServers', 'must be an array of RTCIceServer objects');
  if (config.assetBaseUrl !== null) config.assetBaseUrl = normalizeAssetBaseUrl(config.assetBaseUrl);
  if (config.computeWorkers === null) config.computeWorkers = defaultComputeWorkers();
  if (config.unitsQueuedPerWorker === null) config.unitsQueuedPerWorker = defaultUnitsQueuedPerWorker();
  for (const option of NUMBER_OPTIONS) checkNumber(config, option);
  for (const [longer, shorter] of Object.entries(RULES.longer)) {
    if (config[longer] <= config[shorter]) fail(longer, `must be longer than ${shorter}`);
  }
  return Object.freeze(config);
}

function checkDataDir(config) {
  const dir = config.dataDir;
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    fail('dataDir', `must be null or a directory path (a non-empty string without NUL), got ${typeof dir === 'string' ? JSON.stringify(dir) : String(dir)}`);
  }
  if (!runsInNodeJs()) fail('dataDir', 'applies only in Node.js; in a browser the state is kept in IndexedDB (enablePersistence)');
  if (!config.enablePersistence) fail('dataDir', 'is set but enablePersistence is false; drop one of the two');
}

// A URL (string or URL object), resolved against the page, as a directory.
function normalizeAssetBaseUrl(value) {
  const text = typeof value === 'string' ? value : typeof value?.href === 'string' ? value.href : null;
  if (text === null || text === '') fail('assetBaseUrl', "must be null or a URL (string or URL) of a copy of the package's dist/bundle/ folder, such as '/peercompute/'");
  let url;
  try {
    url = new URL(text, globalThis.location?.href);
  } catch {
    fail('assetBaseUrl', `'${text}' is not a URL${globalThis.location ? '' : ' (give an absolute one where there is no page)'}`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

export const DEFAULT_PEER_SERVER = Object.freeze({ port: 9000, path: '/peerjs', secure: false, key: 'peerjs' });

function normalizePeerServer(input) {
  if (typeof input !== 'object' || Array.isArray(input)) {
    fail('peerServer', 'must be null or an object {host, port, path, secure, key}, such as the /peer-config.json the demo server serves');
  }
  for (const key of Object.keys(input)) {
    if (!['host', 'port', 'path', 'secure', 'key'].includes(key)) fail(`peerServer.${key}`, 'unknown option; known options are host, port, path, secure, key');
  }
  const server = { ...DEFAULT_PEER_SERVER, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  if (typeof server.host !== 'string' || !/^[A-Za-z0-9.:\[\]-]{1,253}$/.test(server.host)) fail('peerServer.host', 'must be a host name or address');
  const port = RULES.peerServerPort;
  if (!Number.isInteger(server.port) || server.port < port.min || server.port > port.max) fail('peerServer.port', `must be an integer in ${port.min}..${port.max}`);
  if (typeof server.path !== 'string' || !server.path.startsWith('/')) fail('peerServer.path', "must be a path starting with '/'");
  if (typeof server.secure !== 'boolean') fail('peerServer.secure', 'must be a boolean');
  if (typeof server.key !== 'string' || server.key.length === 0) fail('peerServer.key', 'must be a non-empty string');
  return Object.freeze(server);
}

// The room the kernel sees: rooms of different games never meet.
export function effectiveRoom(config) {
  return config.gameId === null ? config.roomId : JSON.stringify([config.gameId, config.roomId]);
}

function randomHex(bytes) {
  const a = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function generateNodeId() {
  return `pc-${randomHex(8)}`;
}

// A replica id below 2^53, so JavaScript and C++ agree on it exactly.
export function generateReplicaId() {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = (hi & 0x1fffff) * 2 ** 32 + lo;
  return id === 0 ? 1 : id;
}

export function kernelConfig(config, nodeId, replicaId, roomTag) {
  return {
    nodeId,
    replicaId,
    roomId: effectiveRoom(config),
    appRoomId: config.roomId,
    gameId: config.gameId,
    roomTag,
    sealed: config.password !== null,
    // The token proves to the server that a reconnecting socket is this
    // node's: random, and never shown.
    peerServer: config.peerServer && { ...config.peerServer, token: randomHex(16) },
    topology: config.topology,
    announceIntervalMs: config.announceIntervalMs,
    connectTimeoutMs: config.connectTimeoutMs,
    pingIntervalMs: config.pingIntervalMs,
    peerTimeoutMs: config.peerTimeoutMs,
    maxConnections: config.maxConnections,
    seed: generateReplicaId(), // randomness for redial jitter; the kernel draws none itself
    computeWorkers: config.computeWorkers,
    maxUnitMs: config.maxUnitMs,
    maxTaskDataBytes: config.maxTaskDataBytes,
    unitsQueuedPerWorker: config.unitsQueuedPerWorker,
    // The state manager applies this node's writes as it makes them, so the
    // kernel need not report them back.
    reportLocalChanges: false,
  };
}
