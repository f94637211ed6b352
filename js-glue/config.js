// Node configuration: defaults, validation, and what the kernel is told.
// An option this version does not honour is refused with a clear error rather
// than silently ignored.

export const DEFAULT_CONFIG = Object.freeze({
  nodeId: null, // generated when null
  roomId: 'default',
  topology: 'mesh',
  enablePersistence: true, // the original's default; storage arrives with IndexedDB support
  peerServer: null,
  iceServers: Object.freeze([]),
  announceIntervalMs: 2000,
  connectTimeoutMs: 15000,
  pingIntervalMs: 1000,
  peerTimeoutMs: 5000,
});

const NOT_YET_SUPPORTED = {
  peerServer: 'signaling through a PeerJS server is not supported yet; omit peerServer to use BroadcastChannel',
  gameId: 'gameId is not supported yet; use roomId',
  password: 'room passwords are not supported yet',
};

const TOPOLOGIES = ['mesh'];
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function fail(option, message) {
  throw new TypeError(`config.${option}: ${message}`);
}

function positiveNumber(config, option) {
  const v = config[option];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(option, `must be a positive number, got ${String(v)}`);
}

export function normalizeConfig(input = {}) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError('config must be an object');
  }
  for (const key of Object.keys(input)) {
    if (key in NOT_YET_SUPPORTED) {
      if (input[key] !== null && input[key] !== undefined) fail(key, NOT_YET_SUPPORTED[key]);
    } else if (!(key in DEFAULT_CONFIG)) {
      fail(key, `unknown option; known options are ${Object.keys(DEFAULT_CONFIG).join(', ')}`);
    }
  }
  const config = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };

  if (config.nodeId !== null && (typeof config.nodeId !== 'string' || !NODE_ID.test(config.nodeId))) {
    fail('nodeId', 'must be 1-64 characters of A-Z, a-z, 0-9, "-" or "_"');
  }
  if (typeof config.roomId !== 'string' || config.roomId.length === 0 || config.roomId.length > 256) {
    fail('roomId', 'must be a non-empty string of at most 256 characters');
  }
  if (!TOPOLOGIES.includes(config.topology)) {
    fail('topology', `'${config.topology}' is not supported; use ${TOPOLOGIES.map((t) => `'${t}'`).join(' or ')}`);
  }
  if (typeof config.enablePersistence !== 'boolean') fail('enablePersistence', 'must be a boolean');
  if (!Array.isArray(config.iceServers)) fail('iceServers', 'must be an array of RTCIceServer objects');
  for (const option of ['announceIntervalMs', 'connectTimeoutMs', 'pingIntervalMs', 'peerTimeoutMs']) {
    positiveNumber(config, option);
  }
  if (config.peerTimeoutMs <= config.pingIntervalMs) fail('peerTimeoutMs', 'must be longer than pingIntervalMs');
  return Object.freeze(config);
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

export function kernelConfig(config, nodeId, replicaId) {
  return {
    nodeId,
    replicaId,
    roomId: config.roomId,
    topology: config.topology,
    announceIntervalMs: config.announceIntervalMs,
    connectTimeoutMs: config.connectTimeoutMs,
    pingIntervalMs: config.pingIntervalMs,
    peerTimeoutMs: config.peerTimeoutMs,
    seed: generateReplicaId(), // randomness for redial jitter; the kernel draws none itself
  };
}
