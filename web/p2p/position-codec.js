// A position snapshot is 16 bytes, little-endian: the magic 'PCP1', a uint32
// sequence number, and x, y as float32 in [0, 1]. The magic tells it apart
// from any other binary message; the sequence number shows what the
// unreliable channel lost ("gaps") or delivered out of order ("late").
const POSITION_MAGIC = 0x31504350; // 'P' 'C' 'P' '1'
const POSITION_BYTES = 16;

export function encodePosition(seq, x, y) {
  const view = new DataView(new ArrayBuffer(POSITION_BYTES));
  view.setUint32(0, POSITION_MAGIC, true);
  view.setUint32(4, seq, true);
  view.setFloat32(8, x, true);
  view.setFloat32(12, y, true);
  return new Uint8Array(view.buffer);
}

// {seq, x, y}, or null for bytes that are not a position (peers are untrusted).
export function decodePosition(bytes) {
  if (bytes.byteLength !== POSITION_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== POSITION_MAGIC) return null;
  const x = view.getFloat32(8, true);
  const y = view.getFloat32(12, true);
  if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return null; // also rejects NaN
  return { seq: view.getUint32(4, true), x, y };
}
