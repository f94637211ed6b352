// An independent codec for the frames that carry PeerCompute's replicated
// state, written from wasm/wire/PROTOCOL.md (version 2: section 2, "Peer
// frames", and "Replicated state: merge rule"), byte for byte. Two users:
//   - tests/js/state-wire-conformance.test.mjs checks the library against it
//     (npm test): what the library emits decodes and re-encodes here byte for
//     byte, the merge rule below picks the state the library holds, and frames
//     encoded here are applied as PROTOCOL.md says;
//   - the state benchmark (bench/state-vs-yjs.js, in the browser; its runner
//     serves this file) cross-checks each B3 update the same way and also
//     computes one replica's update size from scratch.
// It has no dependency, and runs in Node and in the browser alike.
//
// Frame:        0xC5, 0x02, type, varuint body length, body
// Update:       writes (runCount >= 1)
// OwnUpdate:    varuint n (>= 1), then n x entry: one run whose writer is the
//               sender (the replicaId of its Hello), left out; what a node
//               sends its peers for each of its transactions
// SyncResponse: vector, writes            (what encodeStateAsUpdate() returns)
// SyncRequest:  vector                     (what encodeStateVector() returns)
// vector = varuint n, then n x (varuint replicaId, varuint seq)
// writes = varuint runCount, then runCount x run
// run    = varuint replicaId, varuint n (>= 1), then n x entry (rising seq)
// entry  = text key, varuint valueLength (0: delete, else 1 + JSON length),
//          JSON bytes, zigzag varint wallDelta, varuint logical, varuint seqDelta
//          (deltas from the previous entry of the run; the first from 0)
// text   = varuint byte length, then the UTF-8 bytes.

export const FRAME_MAGIC = 0xc5;
export const PROTOCOL_VERSION = 0x02;
export const FrameType = Object.freeze({
  Hello: 1,
  SyncRequest: 2,
  SyncResponse: 3,
  Update: 4,
  AppMessage: 5,
  Ping: 6,
  Pong: 7,
  Fragment: 8,
  StateAck: 9,
  OwnUpdate: 20,
});

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a leading U+FEFF is kept

// PROTOCOL.md's json: one JSON value as JSON.parse reads it (so no byte
// order mark and no NUL), with no lone surrogate escape and only finite
// numbers. Throws if the text is not.
function checkJson(text) {
  const value = JSON.parse(text); // a SyntaxError if not JSON at all
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError('json: a number too large for a double');
    if (typeof v === 'string' && !v.isWellFormed()) throw new RangeError('json: a lone surrogate');
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (!k.isWellFormed()) throw new RangeError('json: a lone surrogate in a name');
        stack.push(x);
      }
    }
  }
}

// Unsigned LEB128 of a non-negative safe integer (wall clocks and 53-bit
// replica ids do not fit the 32-bit bitwise operators).
export function varuintBytes(value, out = []) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varuint: ${value} is not a non-negative safe integer`);
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function varuintSize(value) {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

// zigzag of a signed safe integer: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ...
const zigzag = (v) => (v >= 0 ? 2 * v : -2 * v - 1);
const unzigzag = (u) => (u % 2 === 0 ? u / 2 : -(u + 1) / 2);

function pushBytes(out, bytes) {
  varuintBytes(bytes.length, out);
  for (const b of bytes) out.push(b);
}

function encodeVector(vector, out) {
  varuintBytes(vector.length, out);
  for (const { replicaId, seq } of vector) {
    varuintBytes(replicaId, out);
    varuintBytes(seq, out);
  }
  return out;
}

// writes: [{ key, value /* JSON text, or null for a delete */, wall, logical, replicaId, seq }],
// grouped into runs as the kernel does: a run continues while the writer is
// the same and seq rises.
export function encodeWrites(writes, out = []) {
  const runs = [];
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    const prev = writes[i - 1];
    if (prev && prev.replicaId === w.replicaId && w.seq > prev.seq) runs[runs.length - 1].push(w);
    else runs.push([w]);
  }
  varuintBytes(runs.length, out);
  for (const run of runs) {
    varuintBytes(run[0].replicaId, out);
    encodeEntries(run, out);
  }
  return out;
}

// n, then the entries of one writer's run (rising seq; deltas from 0).
function encodeEntries(run, out) {
  varuintBytes(run.length, out);
  let wall = 0;
  let seq = 0;
  for (const w of run) {
    if (typeof w.key !== 'string' || w.key === '') throw new TypeError('write.key must be a non-empty string');
    if (!(w.seq >= 1)) throw new RangeError('write.seq must be >= 1');
    pushBytes(out, utf8.encode(w.key));
    if (w.value === null || w.value === undefined) {
      out.push(0);
    } else {
      const bytes = utf8.encode(w.value);
      varuintBytes(bytes.length + 1, out);
      for (const b of bytes) out.push(b);
    }
    varuintBytes(zigzag(w.wall - wall), out);
    varuintBytes(w.logical, out);
    varuintBytes(w.seq - seq, out);
    wall = w.wall;
    seq = w.seq;
  }
  return out;
}

export function encodeFrame(type, body) {
  const out = [FRAME_MAGIC, PROTOCOL_VERSION, type];
  varuintBytes(body.length, out);
  for (const b of body) out.push(b);
  return Uint8Array.from(out);
}

// One Update frame carrying `writes` (one transaction).
export function encodeUpdateFrame(writes) {
  if (writes.length === 0) throw new RangeError('an Update carries at least one write');
  return encodeFrame(FrameType.Update, encodeWrites(writes));
}

// The OwnUpdate frame a node sends its peers for one of its own transactions
// (`writes`: one writer, rising seq). The writer is not on the wire.
export function encodeOwnUpdateFrame(writes) {
  if (writes.length === 0) throw new RangeError('an OwnUpdate carries at least one write');
  for (let i = 1; i < writes.length; i++) {
    if (writes[i].replicaId !== writes[0].replicaId || !(writes[i].seq > writes[i - 1].seq)) {
      throw new RangeError("an OwnUpdate is one writer's run: one replicaId, rising seq");
    }
  }
  return encodeFrame(FrameType.OwnUpdate, encodeEntries(writes, []));
}

// A SyncResponse sends its vector short (PROTOCOL.md): it leaves out each
// entry its writes imply (a writer's highest seq among them) and sends a 0
// for a writer with writes but no entry. Takes the full vector, returns the
// entries that go on the wire.
export function shortVector(vector, writes) {
  const implied = new Map();
  for (const w of writes) implied.set(w.replicaId, Math.max(implied.get(w.replicaId) ?? 0, w.seq));
  const full = new Map(vector.map(({ replicaId, seq }) => [replicaId, seq]));
  const out = vector.filter(({ replicaId, seq }) => seq !== 0 && implied.get(replicaId) !== seq);
  for (const replicaId of implied.keys()) if (!full.get(replicaId)) out.push({ replicaId, seq: 0 });
  return out.sort((a, b) => a.replicaId - b.replicaId);
}

// What encodeStateAsUpdate() returns: a SyncResponse of the holder's vector
// ([{replicaId, seq}], in the kernel's order; sent short, see shortVector)
// and the writes.
export function encodeSyncResponseFrame(vector, writes) {
  return encodeFrame(FrameType.SyncResponse, encodeWrites(writes, encodeVector(vector, [])));
}

// What encodeStateVector() returns, and encodeStateAsUpdate(stateVector) takes.
export function encodeSyncRequestFrame(vector) {
  return encodeFrame(FrameType.SyncRequest, encodeVector(vector, []));
}

// The receiver's side of shortVector: the highest seq of each writer among the
// writes, then the entries sent, then entries of 0 dropped. Returns the full
// vector, by rising replicaId.
export function expandVector(vector, writes) {
  const full = new Map();
  for (const w of writes) full.set(w.replicaId, Math.max(full.get(w.replicaId) ?? 0, w.seq));
  for (const { replicaId, seq } of vector) full.set(replicaId, seq);
  return [...full]
    .filter(([, seq]) => seq !== 0)
    .map(([replicaId, seq]) => ({ replicaId, seq }))
    .sort((a, b) => a.replicaId - b.replicaId);
}

// ---- decoding ----------------------------------------------------------------------

class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }
  varuint() {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('varuint: truncated');
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw new RangeError('varuint: above 2^53');
        return value;
      }
      scale *= 0x80;
    }
    throw new RangeError('varuint: longer than 10 bytes');
  }
  take(n) {
    if (n > this.end - this.pos) throw new RangeError('bytes: truncated');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  text() {
    return utf8Decoder.decode(this.take(this.varuint()));
  }
}

function decodeVector(r) {
  const n = r.varuint();
  const vector = [];
  for (let i = 0; i < n; i++) vector.push({ replicaId: r.varuint(), seq: r.varuint() });
  return vector;
}

function decodeWrites(r) {
  const runs = r.varuint();
  const writes = [];
  for (let k = 0; k < runs; k++) decodeEntries(r, r.varuint(), writes);
  return writes;
}

// n, then n entries of one writer, appended to `writes`.
function decodeEntries(r, replicaId, writes) {
  const n = r.varuint();
  if (n < 1) throw new RangeError('run: empty');
  let wall = 0;
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const key = r.text();
    if (key === '') throw new RangeError('entry: empty key');
    const valueLength = r.varuint();
    const value = valueLength === 0 ? null : utf8Decoder.decode(r.take(valueLength - 1));
    if (value !== null) checkJson(value);
    wall += unzigzag(r.varuint());
    const logical = r.varuint();
    const seqDelta = r.varuint();
    if (seqDelta < 1) throw new RangeError('entry: seq delta 0');
    seq += seqDelta;
    writes.push({ key, value, wall, logical, replicaId, seq });
  }
  return writes;
}

// Decodes a whole frame of type SyncResponse, Update, OwnUpdate or
// SyncRequest. An OwnUpdate needs `sender`, the sending peer's replicaId.
export function decodeStateFrame(bytes, sender = undefined) {
  if (bytes.length < 4 || bytes[0] !== FRAME_MAGIC || bytes[1] !== PROTOCOL_VERSION) throw new RangeError('not a frame');
  const type = bytes[2];
  const header = new Reader(bytes, 3);
  const length = header.varuint();
  if (length !== bytes.length - header.pos) throw new RangeError('frame: body length does not match');
  const r = new Reader(bytes, header.pos);
  let frame;
  if (type === FrameType.SyncResponse) frame = { type, vector: decodeVector(r), writes: decodeWrites(r) };
  else if (type === FrameType.Update) {
    frame = { type, writes: decodeWrites(r) };
    if (frame.writes.length === 0) throw new RangeError('Update: no write');
  }
  else if (type === FrameType.OwnUpdate) {
    // The writer is the sender: `sender` is the replicaId its Hello named.
    if (sender === undefined) throw new RangeError('OwnUpdate: only a peer session knows its writer (pass the sender)');
    frame = { type, writes: decodeEntries(r, sender, []) };
  }
  else if (type === FrameType.SyncRequest) frame = { type, vector: decodeVector(r) };
  else throw new RangeError(`frame type ${type} is not a state frame`);
  if (r.pos !== r.end) throw new RangeError('frame: trailing bytes');
  return frame;
}

export function reencodeStateFrame(frame) {
  if (frame.type === FrameType.SyncResponse) return encodeSyncResponseFrame(frame.vector, frame.writes);
  if (frame.type === FrameType.Update) return encodeUpdateFrame(frame.writes);
  if (frame.type === FrameType.OwnUpdate) return encodeOwnUpdateFrame(frame.writes);
  return encodeSyncRequestFrame(frame.vector);
}

// The merge rule: the greatest (wall, logical, replicaId), then seq, then a
// value over a delete, then the value's bytes, wins.
export function stampGreater(a, b) {
  if (a.wall !== b.wall) return a.wall > b.wall;
  if (a.logical !== b.logical) return a.logical > b.logical;
  if (a.replicaId !== b.replicaId) return a.replicaId > b.replicaId;
  if (a.seq !== b.seq) return a.seq > b.seq;
  if ((a.value === null) !== (b.value === null)) return a.value !== null;
  if (a.value === null) return false;
  const x = utf8.encode(a.value);
  const y = utf8.encode(b.value);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] > y[i];
  return x.length > y.length;
}

// What a replica holds after merging `writes` in any order: for each key, the
// write the merge rule picks (a delete included, as a write whose value is
// null). A Map from key to write.
export function mergeWrites(writes) {
  const winners = new Map();
  for (const w of writes) {
    const held = winners.get(w.key);
    if (held === undefined || stampGreater(w, held)) winners.set(w.key, w);
  }
  return winners;
}

// A random replica id as the library makes them (js-glue/config.js): 53 bits, never 0.
export function randomReplicaId() {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = (hi & 0x1fffff) * 2 ** 32 + lo;
  return id === 0 ? 1 : id;
}
