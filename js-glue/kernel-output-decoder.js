// Decodes the kernel's output stream (see wasm/bindings/embind_module.cpp)
// into plain objects. Peer ids cross once, as Intern records; afterwards a
// record names its peer by a small integer handle.

const RECORD = Object.freeze({
  Intern: 0,
  Signal: 1,
  Open: 2,
  Rtc: 3,
  Close: 4,
  Send: 5,
  PeerConnected: 6,
  PeerDisconnected: 7,
  State: 8,
  Message: 9,
  Persist: 10,
  Compact: 11,
  Presence: 12,
  ServerConnect: 13,
  ServerSend: 14,
  ServerClose: 15,
  ServerList: 16,
  Seal: 17,
  Unseal: 18,
  Authenticate: 19,
  RunTask: 20,
  CancelTask: 21,
  JobProgress: 22,
  JobFinished: 23,
  EntropyWanted: 24,
});

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class KernelOutputDecoder {
  #peerIds = ['']; // handle -> peer id; handle 0 is this node
  #handles = new Map(); // peer id -> handle
  #bytes = null;
  #view = null;
  #pos = 0;

  handleOf(peerId) {
    return this.#handles.get(peerId) ?? 0;
  }

  // Returns {timeout, outputs}. `bytes` must be a copy the caller owns:
  // 'send' outputs hold views into it.
  decode(bytes) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = 8;
    const timeout = this.#view.getFloat64(0, true);
    const outputs = [];
    while (this.#pos < bytes.length) {
      const output = this.#record(bytes[this.#pos++]);
      if (output) outputs.push(output);
    }
    this.#bytes = this.#view = null;
    return { timeout, outputs };
  }

  #record(kind) {
    switch (kind) {
      case RECORD.Intern: {
        const handle = this.#u32();
        const peerId = this.#str();
        this.#peerIds[handle] = peerId;
        this.#handles.set(peerId, handle);
        return null;
      }
      case RECORD.Signal:
        return { type: 'signal', to: this.#str(), text: this.#str() };
      case RECORD.Open:
        return { type: 'open', peerId: this.#peer(), initiator: this.#bytes[this.#pos++] === 1 };
      case RECORD.Rtc:
        return { type: 'rtc', peerId: this.#peer(), data: this.#str() };
      case RECORD.Close:
        return { type: 'close', peerId: this.#peer() };
      case RECORD.Send:
        return { type: 'send', peerId: this.#peer(), unreliable: this.#bytes[this.#pos++] === 1, bytes: this.#blob() };
      case RECORD.PeerConnected:
        return { type: 'peer-connected', peerId: this.#peer() };
      case RECORD.PeerDisconnected:
        return { type: 'peer-disconnected', peerId: this.#peer(), reason: this.#str() };
      case RECORD.State: {
        const origin = this.#peer();
        const count = this.#u32();
        const changes = new Array(count);
        for (let i = 0; i < count; i++) {
          const key = this.#str();
          const value = this.#bytes[this.#pos++] === 1 ? this.#str() : null;
          changes[i] = { key, value };
        }
        return { type: 'state', origin, changes };
      }
      case RECORD.Message: {
        const peerId = this.#peer();
        const binary = this.#bytes[this.#pos++] === 1;
        // A binary payload is copied out: the stream's buffer is reused.
        return binary
          ? { type: 'message', peerId, binary, bytes: this.#blob().slice() }
          : { type: 'message', peerId, binary, json: this.#str() };
      }
      case RECORD.Persist:
        return { type: 'persist', bytes: this.#blob() };
      case RECORD.Compact:
        return { type: 'compact' };
      case RECORD.Presence: {
        const peerId = this.#peer();
        return { type: 'presence', peerId, json: this.#bytes[this.#pos++] === 1 ? this.#str() : null };
      }
      case RECORD.ServerConnect:
        return { type: 'server-connect', url: this.#str() };
      case RECORD.ServerSend:
        return { type: 'server-send', text: this.#str() };
      case RECORD.ServerClose:
        return { type: 'server-close' };
      case RECORD.ServerList:
        return { type: 'server-list', url: this.#str() };
      case RECORD.Seal:
        return { type: 'seal', ticket: this.#f64(), text: this.#str() };
      case RECORD.Unseal:
        return { type: 'unseal', ticket: this.#f64(), sealed: this.#str() };
      case RECORD.Authenticate: {
        const ticket = this.#f64();
        const peerId = this.#peer();
        return { type: 'authenticate', ticket, peerId, ourChallenge: this.#blob().slice(), theirChallenge: this.#blob().slice() };
      }
      case RECORD.RunTask:
        // The input goes to a worker: copied out of the reused stream buffer.
        return { type: 'run-task', exec: this.#f64(), task: this.#str(), input: this.#blob().slice(), budgetMs: this.#f64() };
      case RECORD.CancelTask:
        return { type: 'cancel-task', exec: this.#f64() };
      case RECORD.JobProgress: {
        const job = this.#f64();
        const unit = this.#u32();
        const done = this.#u32();
        const total = this.#u32();
        const peers = new Array(this.#u32());
        for (let i = 0; i < peers.length; i++) peers[i] = this.#peer();
        return { type: 'job-progress', job, unit, done, total, peers, output: this.#blob().slice() };
      }
      case RECORD.JobFinished:
        return { type: 'job-finished', job: this.#f64(), ok: this.#bytes[this.#pos++] === 1, error: this.#str(), stats: this.#str() };
      case RECORD.EntropyWanted:
        return { type: 'entropy', bytes: this.#u32() };
      default:
        throw new Error(`kernel output stream: unknown record kind ${kind}`);
    }
  }

  #u32() {
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  #f64() {
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  #peer() {
    return this.#peerIds[this.#u32()];
  }

  #blob() {
    const n = this.#u32();
    const b = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }

  #str() {
    const n = this.#u32();
    const start = this.#pos;
    this.#pos += n;
    // Short ASCII strings (ids, small JSON) are cheaper to build by hand than
    // to hand to TextDecoder.
    if (n <= 64) {
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = this.#bytes[i];
        if (c >= 0x80) return utf8.decode(this.#bytes.subarray(start, start + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(this.#bytes.subarray(start, start + n));
  }
}
