// An independent encoder for PeerCompute's Update frame, written from
// wasm/wire/PROTOCOL.md (version 1), byte for byte. The state benchmark uses
// it to compute the size of one replica's update, and to send real frames to
// a connected peer with NetworkManager.sendRaw(), which checks the encoding
// against the kernel's decoder: a frame it could not decode would be counted
// in the peer's `rejected`.
//
// Frame:  0xC5, 0x01, type, varuint body length, body
// Update: writes = varuint n, then n x write
// write:  text key, u8 hasValue, json value (if hasValue), varuint wall,
//         varuint logical, varuint replicaId, varuint seq
// text/json = varuint byte length, then the UTF-8 bytes.

export const FRAME_MAGIC = 0xc5;
export const PROTOCOL_VERSION = 0x01;
export const FrameType = Object.freeze({
  Hello: 1,
  SyncRequest: 2,
  SyncResponse: 3,
  Update: 4,
  AppMessage: 5,
  Ping: 6,
  Pong: 7,
  Fragment: 8,
});

const utf8 = new TextEncoder();

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

function pushBytes(out, bytes) {
  varuintBytes(bytes.length, out);
  for (const b of bytes) out.push(b);
}

// writes: [{ key, value /* JSON text, or null for a delete */, wall, logical, replicaId, seq }]
export function encodeWrites(writes, out = []) {
  varuintBytes(writes.length, out);
  for (const w of writes) {
    if (typeof w.key !== 'string' || w.key === '') throw new TypeError('write.key must be a non-empty string');
    if (!(w.seq >= 1)) throw new RangeError('write.seq must be >= 1');
    pushBytes(out, utf8.encode(w.key));
    if (w.value === null || w.value === undefined) {
      out.push(0);
    } else {
      out.push(1);
      pushBytes(out, utf8.encode(w.value));
    }
    varuintBytes(w.wall, out);
    varuintBytes(w.logical, out);
    varuintBytes(w.replicaId, out);
    varuintBytes(w.seq, out);
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

// A random replica id as the library makes them (js-glue/config.js): 53 bits, never 0.
export function randomReplicaId() {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = (hi & 0x1fffff) * 2 ** 32 + lo;
  return id === 0 ? 1 : id;
}
