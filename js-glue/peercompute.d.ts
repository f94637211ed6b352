// Type declarations for the public API of the peercompute package.

/** Any value JSON can hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What the API checks a value against where it takes JSON: `T` itself where every part of it
 * is JSON, with `never` in place of any part that is not (a function, a bigint, a symbol). Unlike
 * `JsonValue`, it takes values typed by an `interface`, which has no index signature. An object
 * with `toJSON()` (a Date) is taken, as JSON.stringify takes it; a property that is undefined is
 * left out, as JSON.stringify leaves it out.
 */
export type JsonSafe<T> = [T] extends [JsonValue]
  ? T
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends ((...args: never[]) => unknown) | bigint | symbol
      ? never
      : T extends readonly unknown[]
        ? { [K in keyof T]: JsonSafe<T[K]> }
        : T extends { toJSON(): unknown }
          ? T
          : T extends object
            ? { [K in keyof T]: JsonSafe<T[K]> }
            : never;

/** A STUN or TURN server, as RTCPeerConnection takes it (the DOM's RTCIceServer, without the DOM). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Binary data a message may carry; it arrives as a Uint8Array. */
export type BinaryData = ArrayBuffer | ArrayBufferView;

/** An unmodified PeerJS server (npm `peer`), as `/peer-config.json` describes it. */
export interface PeerServerConfig {
  host: string;
  /** Default 9000. */
  port?: number;
  /** Default '/peerjs'. */
  path?: string;
  /** wss/https instead of ws/http. Default false. */
  secure?: boolean;
  /** The server's key. Default 'peerjs'. */
  key?: string;
}

export interface NodeConfig {
  /** Unique id of this node: 1-64 of A-Z a-z 0-9 - _. Generated when omitted. */
  nodeId?: string | null;
  /** Nodes connect only to nodes in the same room (and game). Default 'default'. */
  roomId?: string;
  /** The app's namespace: rooms of different games never meet. Default null. */
  gameId?: string | null;
  /**
   * A room password. Signals are encrypted (AES-GCM, key by PBKDF2 from the
   * password and room, 600,000 rounds: a fraction of a second at initialize()) and peers prove
   * the password on the data channel before anything flows. A node with another
   * password connects to no one and learns nothing. The room's tag, under which
   * its nodes meet on a signaling server, depends on the room and on whether it
   * has a password, never on the password itself.
   */
  password?: string | null;
  /** Only 'mesh' (every pair connected) is supported. */
  topology?: 'mesh';
  /**
   * Keep the state on disk, per room (default true): in a browser in IndexedDB, in Node.js in LevelDB
   * under `dataDir`. Where IndexedDB cannot be opened, or in Node.js without `dataDir`, the node works
   * in memory and `status.state.persistenceError` says why.
   */
  enablePersistence?: boolean;
  /**
   * Node.js only: the directory under which the state is kept, one LevelDB database per room (a
   * subdirectory named after the room), restored before `initialize()` resolves. A write whose
   * promise resolved survives the process being killed (`kill -9`). Needs the package
   * `classic-level` (`npm i classic-level`); `initialize()` rejects naming it when it is missing,
   * and naming the lock file when another process holds the room's database. Null (the default):
   * in Node.js the state stays in memory. In a browser, setting it is an error.
   */
  dataDir?: string | null;
  /**
   * A PeerJS signaling server, for peers in other browsers, processes and machines. Null: BroadcastChannel
   * only (same-origin tabs; in Node.js, the nodes of one process). In Node.js before version 22 it needs the package `ws`.
   */
  peerServer?: PeerServerConfig | null;
  /** STUN/TURN servers passed to every RTCPeerConnection (in Node.js, node-datachannel's). */
  iceServers?: IceServer[];
  /** How often a node announces itself on the signaling transports. Default 2000. */
  announceIntervalMs?: number;
  /** A connection that is not up within this time is abandoned. Default 15000. */
  connectTimeoutMs?: number;
  /** Keepalive ping interval on each connection. Default 1000. */
  pingIntervalMs?: number;
  /** A connected peer silent this long, with a ping unanswered, is dropped: with the default 1 s pings, within 5 s of vanishing. Default 4000. */
  peerTimeoutMs?: number;
  /** Connections held at most, counting those being set up (1–256, default 32); no signal can make the node open more. */
  maxConnections?: number;
  /** Web Workers (in Node.js, worker threads) that run compute units. Null (the default): one less than the cores, at least 1. 0: this node submits work but runs none. */
  computeWorkers?: number | null;
  /**
   * The CPU budget, in ms, of one unit this node runs for a peer: a unit still running
   * that long after its worker (a Web Worker, or in Node.js a worker thread) started it is
   * stopped (the worker is terminated and replaced) and the peer gets an error naming the
   * budget. Units of this node's own jobs have none. Default 60000.
   */
  maxUnitMs?: number;
  /** The largest task input or result, encoded, in bytes. Default 16 MiB. */
  maxTaskDataBytes?: number;
  /**
   * Units each worker is handed beyond the one it runs (0..4), so that it starts the next without
   * waiting for the page. Small units of this node's own jobs (under 2 ms each) queue deeper: about
   * 4 ms of them, at most 64, handed over in one message. Null (the default): 1 where there are Web
   * Workers, else 0. 0 turns queuing off: a round trip through the page per unit, but never a unit
   * waiting in a busy worker: for few, long units.
   */
  unitsQueuedPerWorker?: number | null;
  /**
   * Where the package's assets are served: the URL (resolved against the page) of a copy of the
   * package's dist/bundle/ folder, from which the .wasm and the compute worker load. Null (the
   * default): beside the module, which is right when the package is served as it is and with
   * bundlers that follow `new URL(…, import.meta.url)` (Vite, webpack 5). esbuild and Rollup do not:
   * copy dist/bundle/ and name it here.
   */
  assetBaseUrl?: string | { href: string } | null;
}

/**
 * Data a compute task takes and returns: JSON-like values (numbers, strings,
 * booleans, null, arrays, plain objects), bigints, and binary data
 * (ArrayBuffer, typed arrays, DataView). Typed arrays keep their type; an
 * ArrayBuffer or DataView arrives as a Uint8Array.
 */
export type TaskData =
  | string
  | number
  | bigint
  | boolean
  | null
  | ArrayBuffer
  | ArrayBufferView
  | TaskData[]
  | { [key: string]: TaskData };

/**
 * An input a job takes: task data, or any object (one typed by an `interface` included). Each
 * input is checked when the job is submitted: a part that is not task data throws a TypeError
 * naming it, and a built-in task's input an Error naming the field.
 */
export type TaskInput = TaskData | object;

/** Input of the built-in `mandelbrot` task; its result is a Uint32Array of escape counts, row-major. */
export interface MandelbrotInput {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  maxIter: number;
}

/** Input of the built-in `countPrimes` task: its result is the number of primes p with from <= p < to. */
export interface CountPrimesInput {
  from: number;
  to: number;
}

export interface JobOptions {
  /** Distinct peers that must return byte-identical results for a unit to be accepted. Default 1. */
  redundancy?: number;
  /** How long one peer may take on one unit before it is issued again. Default 30000. */
  timeoutMs?: number;
  /** Failed attempts (errors, timeouts) of one unit before the job fails. Default 3. */
  maxAttempts?: number;
}

export interface JobStats {
  done: number;
  total: number;
  /** Accepted units per peer (this node included). */
  unitsByPeer: Record<string, number>;
  /** Units issued again: after a timeout, an error, a peer leaving, or disagreement. */
  retries: number;
  /** Results that lost a quorum or were malformed. */
  rejectedResults: number;
  /** Peers that returned a rejected result: they get no more units of this job. */
  distrustedPeers: string[];
}

export interface JobProgress<Out = TaskData> {
  done: number;
  total: number;
  /** Accepted units per peer so far. */
  byPeer: Record<string, number>;
  /** The unit just accepted: its index in the inputs, who computed it, and its output. */
  index: number;
  peerId: string;
  peers: string[];
  output: Out;
}

export interface ComputeJob<Out = TaskData> {
  readonly id: number;
  readonly name: string;
  readonly total: number;
  readonly done: number;
  readonly isFinished: boolean;
  /** The outputs in input order. Rejects if the job fails, or with an AbortError when cancelled. */
  readonly result: Promise<Out[]>;
  readonly stats: JobStats;
  on(event: 'progress', listener: (progress: JobProgress<Out>) => void): Unsubscribe;
  on(event: 'done', listener: (outputs: Out[]) => void): Unsubscribe;
  on(event: 'error', listener: (error: Error) => void): Unsubscribe;
  off(event: 'progress' | 'done' | 'error', listener: (...args: any[]) => void): void;
  /** Revokes every unit; false when the job had already finished. */
  cancel(): boolean;
}

export interface ComputeCapabilities {
  workers: number;
  /** Every task this node runs: the built-in ones and those registered. */
  tasks: string[];
  builtinTasks: string[];
  registeredTasks: string[];
  maxTaskDataBytes: number;
  /** True where units run in workers: Web Workers, or worker threads in Node.js. False: inline on the main thread. */
  usesWebWorkers: boolean;
  /** What each connected peer advertised, and how it has done for this node's jobs. */
  /** Per peer: msPerUnit is the smoothed time from handing it a unit to its result; roundTripMs its last ping time. */
  peers: Record<string, { workers: number; tasks: string[]; msPerUnit: number | null; roundTripMs: number | null; unitsDone: number; rejectedResults: number }>;
}

export interface ComputeManager {
  /** Registers an app task: the workers import `module` (a URL, resolved against the page) and call its export. Only the name travels to peers. */
  registerTask(name: string, spec: { module: string | { href: string }; export?: string }): this;
  getCapabilities(): ComputeCapabilities;
  submitJob(name: 'mandelbrot', inputs: readonly MandelbrotInput[], options?: JobOptions): ComputeJob<Uint32Array>;
  submitJob(name: 'countPrimes', inputs: readonly CountPrimesInput[], options?: JobOptions): ComputeJob<number>;
  /** Out: what the task returns, typed as the app says it is. */
  submitJob<Out = TaskData>(name: string, inputs: readonly TaskInput[], options?: JobOptions): ComputeJob<Out>;
  /** One task, one result: the original library's shape. */
  submitTask<Out = TaskData>(task: { id?: string | number; type: string; data: TaskInput; options?: JobOptions }): Promise<Out>;
}

export type PeerState = 'discovered' | 'connecting' | 'handshaking' | 'connected';

export interface PeerInfo {
  peerId: string;
  state: PeerState;
  initiator: boolean;
  transport: 'webrtc';
  /** Where its signals came from: 'broadcast-channel' (same browser) or 'peerjs-server'. */
  signaling: 'broadcast-channel' | 'peerjs-server' | null;
  /** True once it proved the room password (rooms with a password only). */
  passwordVerified: boolean;
  discoveredAt: number;
  connectedAt: number | null;
  lastMessageTime: number | null;
  lastHeardAt: number | null;
  rttMs: number | null;
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** Frames from this peer dropped as malformed or out of protocol. */
  rejected: number;
}

export interface SignalingServerStatus {
  state: 'off' | 'connecting' | 'awaiting-open' | 'registered' | 'reconnecting';
  /** The id this node registered under: "<room tag>.<nodeId>". */
  serverId: string;
  url: string;
  /** Members of this room the server listed. */
  roomMembers: number;
  reconnects: number;
  /** Times the server said the id was taken (the node then registers under a fresh one). */
  idTaken: number;
  lastError: string | null;
}

export interface NodeStatus {
  nodeId: string;
  roomId: string;
  gameId: string | null;
  isInitialized: boolean;
  isStarted: boolean;
  startedAt: number | null;
  topology: 'mesh';
  network: {
    peerId: string;
    peerCount: number;
    knownPeers: number;
    isConnected: boolean;
    /** Number of open peer connections. */
    connections: number;
    /** Every known peer's connection state. */
    connectionStates: Record<string, PeerState>;
    /** The signaling routes in use while started: 'broadcast-channel', 'peerjs-server'. */
    transports: string[];
    bytesIn: number;
    bytesOut: number;
    messagesIn: number;
    messagesOut: number;
    rejectedFrames: number;
    rejectedSignals: number;
    /** Of rejectedSignals, those from a shadow id on the PeerJS server ("<tag>.<id>.<n>" while "<tag>.<id>" is registered): an impostor, or a reloaded page's lingering socket. */
    shadowedSignals: number;
    lastRejection: string | null;
    passwordProtected: boolean;
    /** Null without a peerServer. */
    signalingServer: SignalingServerStatus | null;
  };
  state: {
    /** Live keys in the kernel, namespaced ones included. */
    keyCount: number;
    /** Deleted keys. A delete is kept for good (without its value), so a replica back from any absence converges. */
    tombstones: number;
    /** Memory those deletes take: their keys plus a fixed entry each. */
    tombstoneBytes: number;
    /** Peers' writes refused for a stamp more than maxClockDriftMs ahead of this node's clock. */
    futureWrites: number;
    /** Anti-entropy rounds begun, when a peer's state fingerprint differed from ours. */
    reconciliations: number;
    /** Writes anti-entropy brought that delta sync had missed. */
    repairedWrites: number;
    /** This replica's id in the CRDT; 0 before initialize(). */
    replicaId: number;
    rejectedWrites: number;
    hasPersistence: boolean;
    /** Why persistence is off although enablePersistence is true, else null. */
    persistenceError: string | null;
    hasP2PSync: boolean;
  };
  compute: {
    enabled: boolean;
    /** This node runs units (it has workers). */
    available: boolean;
    workers: number;
    /** Units waiting for one of this node's workers, running, and run to the end. */
    queued: number;
    /** Units handed to the workers: running, or next in a worker's own queue (at most one per worker). */
    running: number;
    completed: number;
    /** This node's jobs still under way. */
    activeJobs: number;
    tasks: string[];
    /** Results refused: for units a peer was not given, malformed, or oversized. */
    rejectedResults: number;
    maxTaskDataBytes: number;
  };
}

export interface StateSnapshot {
  data: Record<string, JsonValue>;
  timestamp: number;
  version: number;
  keyCount: number;
}

export interface StateStats {
  isInitialized: boolean;
  /** Keys outside namespaces. */
  keyCount: number;
  namespaceCount: number;
  subscriberCount: number;
  globalSubscriberCount: number;
  hasPersistence: boolean;
  hasP2PSync: boolean;
  version: number;
  localTransactions: number;
  remoteTransactions: number;
}

export type Unsubscribe = () => void;

/**
 * The replicated state. Every operation takes effect locally at once; the
 * promise it returns resolves once the operation is durable in storage (at
 * once when there is none). Awaiting it is optional.
 */
export interface StateManager {
  /** The value, typed as the app says it is (T: any JSON type; the default JsonValue). */
  read<T = JsonValue>(key: string): T | undefined;
  /**
   * Throws a TypeError naming the problem if the key or value is not valid, and a
   * RangeError if the value is too large for one transaction (16 MiB).
   */
  write<T>(key: string, value: T & JsonSafe<T>): Promise<true>;
  /** Resolves to whether the key existed. */
  delete(key: string): Promise<boolean>;
  has(key: string): boolean;
  /**
   * One atomic transaction; an undefined value deletes its key. Resolves to the number of operations.
   * A transaction holds at most 1,048,576 keys and 16 MiB, counting each key and value in UTF-8
   * plus 14 bytes a key (so about 700,000 entries of short keys and values): a larger one throws
   * a RangeError that names the limit, and nothing is written. Split it into several batchWrite calls.
   */
  batchWrite<T extends object>(entries: T & { [K in keyof T]: JsonSafe<T[K]> | undefined }): Promise<number>;
  /** The callback gets undefined as value when the key was deleted. */
  subscribe<T = JsonValue>(key: string | '*', callback: (value: T | undefined, key: string) => void): Unsubscribe;
  /** Keys outside namespaces. */
  keys(): string[];
  values(): JsonValue[];
  entries(): [string, JsonValue][];
  snapshot(): StateSnapshot;
  /**
   * Deletes every key outside namespaces, for every peer. Resolves to how many there were.
   * Atomic up to 1,048,576 keys and 16 MiB of keys (counting 14 bytes a key, as batchWrite):
   * a larger state is deleted in several transactions, which peers may apply one by one.
   */
  clear(): Promise<number>;
  getStats(): StateStats;
  /**
   * Commits queued operations to the kernel now (they otherwise go at the end of the tick): as one
   * transaction when they fit one, else as several, each write, delete and batchWrite staying whole.
   */
  flush(): void;
  /** Empties this room's store; memory and peers keep the state. */
  clearPersistence(): Promise<void>;

  writeScoped<T>(namespace: string, key: string, value: T & JsonSafe<T>): Promise<true>;
  readScoped<T = JsonValue>(namespace: string, key: string): T | undefined;
  hasScoped(namespace: string, key: string): boolean;
  deleteScoped(namespace: string, key: string): Promise<boolean>;
  /** Deletes every key of the namespace: as one transaction within the limits clear() names. */
  clearNamespace(namespace: string): Promise<number>;
  listNamespaceKeys(namespace: string): string[];
  observeNamespace<T = JsonValue>(namespace: string, callback: (value: T | undefined, key: string) => void): Unsubscribe;

  /**
   * This node's ephemeral state for its peers (never stored); null clears it. At most 64 KiB of
   * JSON: a larger one throws a RangeError naming the limit, and the presence stays as it was.
   */
  setPresence<T>(presence: T & JsonSafe<T>): void;
  /**
   * Every node's presence, this node's included: a new object each call, whose values are
   * parsed once when they change and deep-frozen (shared with every listener; copy one to change it).
   */
  getPresence(): Record<string, JsonValue>;
  /** Called on every change with every presence (as getPresence()) and the change; the presences are frozen. */
  onPresence(callback: (all: Record<string, JsonValue>, change: { peerId: string; state: JsonValue | null }) => void): Unsubscribe;

  /** What this replica has seen, for encodeStateAsUpdate() elsewhere. */
  encodeStateVector(): Uint8Array;
  /** Every write the holder of stateVector lacks (everything, without one). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array;
  /** Merges an update as if a peer had sent it. Throws an Error on malformed bytes, changing nothing. */
  applyUpdate(update: Uint8Array): void;
}

export interface NetworkStats {
  peerId: string;
  peerCount: number;
  knownPeers: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  rejectedFrames: number;
  rejectedSignals: number;
  lastRejection: string | null;
  peers: PeerInfo[];
}

export interface SendOptions {
  /**
   * false: the unordered channel that never retransmits, for high-rate
   * snapshots (positions 20 times a second). Such a message must fit one
   * channel message (64 KiB) and may be lost. Default true.
   */
  reliable?: boolean;
}

/** A binary message arrives as a Uint8Array, a JSON one as its value. */
export type MessageHandler = (peerId: string, message: JsonValue | Uint8Array) => void;

export interface NetworkManager {
  getPeers(): PeerInfo[];
  getConnectedPeers(): PeerInfo[];
  /**
   * A JSON value, or binary data that arrives as a Uint8Array. Messages of any
   * size travel in fragments, as the channel drains. Throws an Error when the
   * message would take the peer's send queue past 64 MiB (wait for queuedBytes()
   * to fall). Frames the node sends of itself (state, presence, compute) are not
   * refused: one that would pass the bound disconnects the peer, which has stopped reading.
   */
  sendToPeer<T>(peerId: string, message: T & (T extends BinaryData ? T : JsonSafe<T>), options?: SendOptions): true;
  /** Returns the number of connected peers it went to. */
  broadcast<T>(message: T & (T extends BinaryData ? T : JsonSafe<T>), options?: SendOptions): number;
  /** Bytes waiting for the peer's channel to drain. */
  queuedBytes(peerId: string): number;
  addMessageHandler(handler: MessageHandler): Unsubscribe;
  removeMessageHandler(handler: MessageHandler): boolean;
  /** Sends bytes on the data channel as they are, bypassing framing: for protocol diagnostics. */
  sendRaw(peerId: string, bytes: Uint8Array): void;
  getNetworkStats(): NetworkStats;
}

export interface NodeEvents {
  initialized: { nodeId: string };
  started: { nodeId: string };
  stopped: { nodeId: string };
  'peer-connected': { peerId: string };
  'peer-disconnected': { peerId: string; reason: string };
  /** origin: null for this node's writes; a peer id; '(storage)' or '(update)'. */
  'state-changed': { key: string; value: JsonValue | undefined; deleted: boolean; origin: string | null };
  presence: { peerId: string; state: JsonValue | null };
  message: { peerId: string; message: JsonValue | Uint8Array };
}

export declare class NodeKernel {
  constructor(config?: NodeConfig);
  readonly nodeId: string;
  readonly config: Readonly<Required<NodeConfig>>;
  readonly isInitialized: boolean;
  readonly isStarted: boolean;
  initialize(): Promise<this>;
  /**
   * Joins the room. Throws if the node is not initialized. Rejects, naming what is missing, where
   * there is no RTCPeerConnection, or no WebSocket while a peerServer is set: in Node.js, where the
   * optional packages `node-datachannel` (WebRTC) and, before Node 22, `ws` provide them, the error
   * names the one to install (`npm i node-datachannel`). They are loaded on the first start().
   */
  start(): Promise<this>;
  /** Closes every connection; in Node.js, once the process's last node stops, nothing of the networking keeps it alive. */
  stop(): Promise<this>;
  on<E extends keyof NodeEvents>(event: E, listener: (event: NodeEvents[E]) => void): Unsubscribe;
  off<E extends keyof NodeEvents>(event: E, listener: (event: NodeEvents[E]) => void): void;
  getStatus(): NodeStatus;
  getStateManager(): StateManager;
  getNetworkManager(): NetworkManager;
  /** Empties this room's store; memory and peers keep the state. */
  clearPersistence(): Promise<void>;
  getComputeManager(): ComputeManager;
  /** Runs task `type` on `data` somewhere in the room: `{id, type, data}`, as the original library took it. */
  submitTask<Out = TaskData>(task: { id?: string | number; type: string; data: TaskInput; options?: JobOptions }): Promise<Out>;
}

/** Returns a node that is initialized but not started. */
export declare function createNode(config?: NodeConfig): Promise<NodeKernel>;
export declare const VERSION: string;
export declare const DEFAULT_CONFIG: Readonly<Required<NodeConfig>>;
