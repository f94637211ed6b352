// NodeKernel: the public face of one node. It owns the C++ kernel (through
// the KernelDriver) and the browser I/O the kernel asks for: signaling
// transports and WebRTC connections.
import { DEFAULT_CONFIG, effectiveRoom, generateNodeId, generateReplicaId, kernelConfig, normalizeConfig } from './config.js';
import { ComputeManager } from './compute/compute-manager.js';
import { RoomCrypto } from './crypto/room-crypto.js';
import { EventEmitter } from './event-emitter.js';
import { KernelDriver, now } from './kernel-driver.js';
import { NetworkManager } from './network-manager.js';
import { StateManager } from './state-manager.js';
import { IndexedDbStore } from './storage/indexeddb-store.js';
import { BroadcastChannelTransport } from './transports/broadcast-channel-transport.js';
import { PeerServerSocket } from './transports/peer-server-socket.js';
import { assertSignalingTransport } from './transports/signaling-transport.js';
import { loadCore } from './wasm-loader.js';
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
  #transports = [];
  #server = null;
  #crypto = null;
  #storage = null;
  #persistenceError = null;
  #initializing = null;
  #started = false;
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
    const core = await loadCore();
    // The password, if any, is stretched here, once; the kernel gets only the room's tag.
    this.#crypto = await RoomCrypto.create(effectiveRoom(this.#config), this.#config.password);
    if (this.#config.enablePersistence) {
      const opened = await IndexedDbStore.open(effectiveRoom(this.#config));
      this.#storage = opened.store ?? null;
      this.#persistenceError = opened.error ?? null;
    }
    const kernel = new core.Kernel();
    // The kernel's secrets and nonces come from here: it draws no randomness of its own.
    addEntropy(core, kernel, 1024);
    const settings = {
      ...kernelConfig(this.#config, this.#nodeId, generateReplicaId(), this.#crypto.tag),
      persist: this.#storage !== null,
    };
    const error = kernel.initialize(JSON.stringify(settings), now());
    if (error) {
      kernel.delete();
      throw new Error(`initialize(): ${error}`);
    }
    this.#driver = new KernelDriver(core, kernel, (output) => this.#dispatch(output));
    this.#pool = new PeerConnectionPool({
      iceServers: this.#config.iceServers,
      events: {
        onLocalSignal: (peerId, json) => this.#driver.input((k, t) => k.handleLocalRtcSignal(peerId, json, t)),
        onOpen: (peerId) => this.#driver.input((k, t) => k.handleChannelOpen(peerId, t)),
        onClose: (peerId) => this.#driver.input((k, t) => k.handleChannelClosed(peerId, t)),
        onData: (peerId, bytes, unreliable) => this.#driver.inputData(peerId, bytes, unreliable),
        onOverflow: (peerId) => this.#driver.input((k, t) => k.handleSendOverflow(peerId, t)),
      },
    });
    if (this.#config.peerServer) {
      this.#server = new PeerServerSocket({
        onOpen: () => this.#driver.input((k, t) => k.handleServerOpen(t)),
        onMessage: (text) => this.#driver.input((k, t) => k.handleServerMessage(text, t)),
        onClosed: () => this.#driver.input((k, t) => k.handleServerClosed(t)),
        onListing: (ok, text) => this.#driver.input((k, t) => k.handleServerPeers(ok, text, t)),
      });
    }
    this.#state = new StateManager(this.#driver, this.#emitter, () => this.#started, this.#nodeId);
    this.#network = new NetworkManager(this.#driver, this.#pool, this.#emitter);
    this.#compute = new ComputeManager(this.#driver, core, this.#config.computeWorkers);
    if (this.#storage) {
      this.#state.attachStorage(this.#storage);
      // The state is back before initialize() resolves.
      for (const record of await this.#storage.loadAll()) this.#restore(record);
    }
    this.#emitter.emit('initialized', { nodeId: this.#nodeId });
    return this;
  }

  async start() {
    if (!this.isInitialized) throw new Error('start(): the node is not initialized; call initialize() first');
    if (this.#started) return this;
    this.#transports = this.#createTransports();
    const onSignal = (text) => this.#driver.input((k, t) => k.handleSignal(text, t));
    await Promise.all(this.#transports.map((transport) => transport.start(onSignal)));
    const error = this.#driver.input((k, t) => k.start(t));
    if (error) {
      this.#stopTransports();
      throw new Error(`start(): ${error}`);
    }
    this.#started = true;
    globalThis.addEventListener?.('pagehide', this.#onPageHide);
    this.#emitter.emit('started', { nodeId: this.#nodeId });
    return this;
  }

  async stop() {
    if (!this.#started) return this;
    // Synchronous up to here, so it also completes inside a pagehide handler.
    this.#driver.input((k, t) => k.stop(t));
    this.#pool.closeAll();
    this.#server?.close();
    this.#stopTransports();
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

  getStatus() {
    if (!this.isInitialized) {
      return {
        nodeId: this.#nodeId,
        roomId: this.#config.roomId,
        isInitialized: false,
        isStarted: false,
        startedAt: null,
        topology: this.#config.topology,
        network: { peerId: this.#nodeId, peerCount: 0, knownPeers: 0, isConnected: false, connections: 0, connectionStates: {} },
        state: { keyCount: 0, hasPersistence: false, hasP2PSync: false },
        compute: { enabled: false, available: false, workers: this.#config.computeWorkers, queued: 0, running: 0, completed: 0 },
      };
    }
    this.#state.flush();
    const status = JSON.parse(this.#driver.kernel.status());
    status.network.transports = this.#transports.map((t) => t.name);
    if (this.#server) status.network.transports.push(this.#server.name);
    status.gameId = this.#config.gameId;
    status.roomId = this.#config.roomId;
    status.state.hasPersistence = this.#storage !== null;
    status.state.persistenceError = this.#persistenceError;
    status.state.hasP2PSync = status.isStarted;
    const { peers: _workers, ...compute } = status.compute;
    status.compute = { enabled: true, available: compute.workers > 0, ...compute };
    return status;
  }

  #restore(record) {
    const error = this.#driver.inputBytes(record, (k, size, t) => k.applyUpdate(size, true, t));
    if (error) console.warn(`peercompute: skipped a stored record: ${error}`);
  }

  #requireInitialized(where) {
    if (!this.isInitialized) throw new Error(`${where}: the node is not initialized; call initialize() first`);
  }

  #createTransports() {
    const transports = [];
    if (BroadcastChannelTransport.isAvailable()) transports.push(new BroadcastChannelTransport(this.#crypto.tag));
    return transports.map(assertSignalingTransport);
  }

  #stopTransports() {
    for (const transport of this.#transports) transport.stop();
    this.#transports = [];
  }

  #dispatch(output) {
    switch (output.type) {
      case 'signal':
        for (const transport of this.#transports) transport.send(output.text, output.to);
        break;
      case 'open':
        this.#pool.open(output.peerId, output.initiator);
        break;
      case 'rtc':
        this.#pool.deliver(output.peerId, output.data);
        break;
      case 'close':
        this.#pool.close(output.peerId);
        break;
      case 'send':
        this.#pool.send(output.peerId, output.bytes, output.unreliable);
        break;
      case 'peer-connected':
        this.#emitter.emit('peer-connected', { peerId: output.peerId });
        break;
      case 'peer-disconnected':
        this.#emitter.emit('peer-disconnected', { peerId: output.peerId, reason: output.reason });
        break;
      case 'state':
        this.#state.applyKernelChanges(output.origin, output.changes);
        break;
      case 'message':
        this.#network.deliverMessage(output.peerId, output.binary ? output.bytes : JSON.parse(output.json));
        break;
      case 'server-connect':
        this.#server?.connect(output.url);
        break;
      case 'server-send':
        this.#server?.send(output.text);
        break;
      case 'server-close':
        this.#server?.close();
        break;
      case 'server-list':
        this.#server?.list(output.url);
        break;
      case 'seal':
        this.#crypto.seal(output.text).then(
          (sealed) => this.#driver.input((k, t) => k.handleSealed(output.ticket, sealed, t)),
          () => this.#driver.input((k, t) => k.handleSealed(output.ticket, '', t)),
        );
        break;
      case 'unseal':
        this.#crypto.unseal(output.sealed).then((text) =>
          this.#driver.input((k, t) => k.handleUnsealed(output.ticket, text !== null, text ?? '', t)),
        );
        break;
      case 'authenticate':
        this.#crypto
          .proofs(this.#nodeId, output.peerId, output.ourChallenge, output.theirChallenge)
          .then(({ proof, expected }) =>
            this.#driver.inputBytes(concatBytes(proof, expected), (k, size, t) =>
              k.handleAuthProofs(output.ticket, proof.length, expected.length, t),
            ),
          )
          .catch((error) => console.error('peercompute: computing the password proof failed', error));
        break;
      case 'run-task':
      case 'cancel-task':
      case 'job-progress':
      case 'job-finished':
        this.#compute.handleOutput(output);
        break;
      case 'presence':
        this.#state.applyPresence(output.peerId, output.json);
        break;
      case 'entropy':
        this.#driver.inputBytes(randomBytes(output.bytes), (k, size) => k.addEntropy(size));
        break;
      case 'persist':
        this.#storage?.append(output.bytes);
        break;
      case 'compact':
        this.#storage
          ?.compact((records) => {
            for (const record of records) this.#restore(record);
            return this.#driver.input((k) => k.snapshotForStorage().slice());
          })
          .catch((error) => console.error('peercompute: compacting storage failed', error));
        break;
      default:
        console.warn(`peercompute: unknown kernel output '${output.type}'`);
    }
  }
}

// getRandomValues fills at most 64 KiB a call.
function randomBytes(size) {
  return crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
}

// CSPRNG bytes into a kernel that has no driver yet.
function addEntropy(core, kernel, size) {
  const bytes = randomBytes(size);
  core.HEAPU8.set(bytes, kernel.inputBuffer(bytes.length));
  kernel.addEntropy(bytes.length);
}

function concatBytes(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export { DEFAULT_CONFIG };
