// NodeKernel: the public face of one node. It owns the C++ kernel (through
// the KernelDriver) and the parts of the glue that do the I/O the kernel asks
// for: signaling routes, WebRTC connections, storage, crypto and workers.
import { DEFAULT_CONFIG, effectiveRoom, generateNodeId, generateReplicaId, kernelConfig, normalizeConfig } from './config.js';
import { ComputeManager } from './compute/compute-manager.js';
import { RoomCrypto } from './crypto/room-crypto.js';
import { loadThreadWorker } from './compute/node-threads.js';
import { networkingFor, runsInNodeJs } from './environment.js';
import { EventEmitter } from './event-emitter.js';
import { randomBytes, serveKernelOutputs } from './host-adapters.js';
import { KernelDriver, now } from './kernel-driver.js';
import { NetworkManager } from './network-manager.js';
import { StateManager } from './state-manager.js';
import { openStore } from './storage/open-store.js';
import { SignalingRoutes } from './transports/signaling-routes.js';
import { loadCore } from './wasm-loader.js';
import { STATUS_BEFORE_INIT } from './rules/kernel-rules.js';
import { PeerConnectionPool } from './webrtc/peer-connection-pool.js';

export class NodeKernel {
  #config;
  #nodeId;
  #emitter = new EventEmitter();
  #driver = null;
  #pool = null;
  #state = null;
  #network = null;
  #compute = null;
  #routes = null;
  #crypto = null;
  #storage = null;
  #persistenceError = null;
  #initializing = null;
  #starting = null;
  #started = false;
  // The classes the pool and the signaling transports construct
  // (RTCPeerConnection, WebSocket): filled by start() from the environment
  // (in Node.js, from the optional packages), emptied by stop().
  #host = { RTCPeerConnection: null, WebSocket: null };
  #releaseNetworking = () => {};
  #onPageHide = () => this.stop();

  constructor(config = {}) {
    this.#config = normalizeConfig(config);
    this.#nodeId = this.#config.nodeId ?? generateNodeId();
  }

  get nodeId() {
    return this.#nodeId;
  }

  get config() {
    return this.#config;
  }

  get isInitialized() {
    return this.#driver !== null;
  }

  get isStarted() {
    return this.#started;
  }

  initialize() {
    this.#initializing ??= this.#initialize().catch((error) => {
      this.#initializing = null;
      throw error;
    });
    return this.#initializing;
  }

  async #initialize() {
    const core = await loadCore(this.#config.assetBaseUrl);
    // The password, if any, is stretched here, once; the kernel gets only the room's tag.
    this.#crypto = await RoomCrypto.create(effectiveRoom(this.#config), this.#config.password);
    if (this.#config.enablePersistence) {
      const opened = await openStore(effectiveRoom(this.#config), this.#config.dataDir);
      this.#storage = opened.store ?? null;
      this.#persistenceError = opened.error ?? null;
    }
    const kernel = new core.Kernel();
    // The kernel's secrets and nonces come from here: it draws no randomness of its own.
    addEntropy(core, kernel, 1024);
    const settings = {
      ...kernelConfig(this.#config, this.#nodeId, generateReplicaId(), this.#crypto.tag),
      persist: this.#storage !== null,
      persistenceError: this.#persistenceError,
    };
    const error = kernel.initialize(JSON.stringify(settings), now());
    if (error) {
      kernel.delete();
      throw new Error(`initialize(): ${error}`);
    }
    this.#driver = new KernelDriver(core, kernel);
    this.#pool = new PeerConnectionPool({
      iceServers: this.#config.iceServers,
      host: this.#host,
      events: {
        onLocalSignal: (peerId, json) => this.#driver.input((k, t) => k.handleLocalRtcSignal(peerId, json, t)),
        onOpen: (peerId) => this.#driver.input((k, t) => k.handleChannelOpen(peerId, t)),
        onClose: (peerId) => this.#driver.input((k, t) => k.handleChannelClosed(peerId, t)),
        onData: (peerId, bytes, unreliable) => this.#driver.inputData(peerId, bytes, unreliable),
        onOverflow: (peerId) => this.#driver.input((k, t) => k.handleSendOverflow(peerId, t)),
      },
    });
    this.#routes = new SignalingRoutes(this.#driver, undefined, this.#host);
    this.#state = new StateManager(this.#driver, this.#emitter, () => this.#started, this.#nodeId);
    this.#network = new NetworkManager(this.#driver, this.#pool, this.#emitter);
    // Compute units run in Web Workers, or in Node.js in worker threads.
    const WorkerClass = runsInNodeJs() ? await loadThreadWorker() : undefined;
    this.#compute = new ComputeManager(this.#driver, core, this.#config.computeWorkers, this.#nodeId, this.#config.assetBaseUrl, WorkerClass);
    serveKernelOutputs(this.#driver, {
      pool: this.#pool,
      routes: this.#routes,
      emitter: this.#emitter,
      state: this.#state,
      network: this.#network,
      compute: this.#compute,
      roomCrypto: this.#crypto,
      storage: this.#storage,
      nodeId: this.#nodeId,
      restore: (record) => this.#restore(record),
    });
    if (this.#storage) {
      this.#state.attachStorage(this.#storage);
      // The state is back before initialize() resolves.
      for (const record of await this.#storage.loadAll()) this.#restore(record);
    }
    this.#emitter.emit('initialized', { nodeId: this.#nodeId });
    return this;
  }

  start() {
    // Two calls while the networking loads share one start.
    this.#starting ??= this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start() {
    if (!this.isInitialized) throw new Error('start(): the node is not initialized; call initialize() first');
    if (this.#started) return this;
    const networking = await networkingFor(this.#config);
    if (networking.missing) {
      throw new Error(
        `start(): ${networking.missing.map((m) => m.replace(/\.$/, '')).join('; and ')}. Without start() the node still keeps its state and runs compute jobs on its own workers.`,
      );
    }
    this.#host.RTCPeerConnection = networking.RTCPeerConnection;
    this.#host.WebSocket = networking.WebSocket;
    this.#releaseNetworking = networking.release;
    // The kernel opens its signaling routes as it starts.
    const error = this.#driver.input((k, t) => k.start(t));
    if (error) {
      this.#routes.closeAll();
      this.#releaseNetworking();
      throw new Error(`start(): ${error}`);
    }
    this.#started = true;
    globalThis.addEventListener?.('pagehide', this.#onPageHide);
    this.#emitter.emit('started', { nodeId: this.#nodeId });
    return this;
  }

  async stop() {
    // A stop() while start() loads the networking waits for it, then stops:
    // the node does not come up after the app stopped it.
    if (!this.#started && this.#starting) await this.#starting.catch(() => {});
    if (!this.#started) return this;
    // Synchronous up to here when started, so it also completes inside a pagehide handler.
    this.#driver.input((k, t) => k.stop(t));
    this.#pool.closeAll();
    this.#routes.closeAll();
    // In Node.js, the last node to stop lets node-datachannel end its threads, so the process can exit.
    this.#releaseNetworking();
    this.#releaseNetworking = () => {};
    this.#started = false;
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    this.#emitter.emit('stopped', { nodeId: this.#nodeId });
    return this;
  }

  on(event, listener) {
    return this.#emitter.on(event, listener);
  }

  off(event, listener) {
    this.#emitter.off(event, listener);
  }

  getStateManager() {
    this.#requireInitialized('getStateManager()');
    return this.#state;
  }

  getNetworkManager() {
    this.#requireInitialized('getNetworkManager()');
    return this.#network;
  }

  // Empties this room's store; the state in memory, and at peers, stays.
  async clearPersistence() {
    this.#requireInitialized('clearPersistence()');
    await this.#storage?.clear();
  }

  getComputeManager() {
    this.#requireInitialized('getComputeManager()');
    return this.#compute;
  }

  // The original library's call: {id, type, data} runs task `type` on `data`
  // somewhere in the room and resolves to its result.
  submitTask(task) {
    this.#requireInitialized('submitTask()');
    return this.#compute.submitTask(task);
  }

  // The status has one shape, the kernel's (wasm/kernel/node_status.cpp).
  // Before initialize() it is a fresh kernel's, with this node's settings.
  getStatus() {
    if (!this.isInitialized) return this.#statusBeforeInit();
    this.#state.flush();
    return JSON.parse(this.#driver.kernel.status());
  }

  #statusBeforeInit() {
    const status = structuredClone(STATUS_BEFORE_INIT);
    status.nodeId = status.network.peerId = this.#nodeId;
    status.roomId = this.#config.roomId;
    status.gameId = this.#config.gameId;
    status.topology = this.#config.topology;
    status.network.passwordProtected = this.#config.password !== null;
    status.compute.workers = this.#config.computeWorkers;
    status.compute.available = this.#config.computeWorkers > 0;
    status.compute.maxTaskDataBytes = this.#config.maxTaskDataBytes;
    return status;
  }

  #restore(record) {
    const error = this.#driver.inputBytes(record, (k, size, t) => k.applyUpdate(size, true, t));
    if (error) console.warn(`peercompute: skipped a stored record: ${error}`);
  }

  #requireInitialized(where) {
    if (!this.isInitialized) throw new Error(`${where}: the node is not initialized; call initialize() first`);
  }
}

// CSPRNG bytes into a kernel that has no driver yet.
function addEntropy(core, kernel, size) {
  const bytes = randomBytes(size);
  core.HEAPU8.set(bytes, kernel.inputBuffer(bytes.length));
  kernel.addEntropy(bytes.length);
}

export { DEFAULT_CONFIG };
