// The messages a tab sends its peers about its own render, so that a tab
// helping with it can show it too: a JSON message when the render starts or
// ends, and a binary one for each tile accepted, carrying its escape counts.
//
// A tile message is 'PCT1', a u32 (little-endian) header length, the header
// as UTF-8 JSON, zero padding to a multiple of 4 bytes, then the counts: 16
// bits each when maxIter fits, else 32 (in the platform's byte order, which
// is little-endian on every browser platform).
//
// Everything decoded here came from another tab, so it is checked: a
// message that is not what it claims gives null, never an exception.

export const MESSAGE_TYPE = 'mandelbrot-render';
const MAGIC = [0x50, 0x43, 0x54, 0x31]; // 'PCT1'
const MAX_SIDE = 64;
const MAX_ITER = 1_000_000;
const MAX_ID_CHARS = 128;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const isCount = (n, max) => Number.isInteger(n) && n >= 0 && n <= max;
const isId = (s) => typeof s === 'string' && s.length > 0 && s.length <= MAX_ID_CHARS;

// The render a message describes: {render, side, maxIter, total}, checked
// against the canvas the tiles will be drawn on; null if it does not fit.
function checkRender(m, canvas) {
  if (!m || typeof m !== 'object' || !isId(m.render)) return null;
  const { side, maxIter, total } = m;
  if (!isCount(side, MAX_SIDE) || side === 0 || canvas.width % side || canvas.height % side) return null;
  if (!isCount(maxIter, MAX_ITER) || maxIter === 0 || total !== side * side) return null;
  return { render: m.render, side, maxIter, total };
}

function checkByPeer(byPeer, total) {
  if (!byPeer || typeof byPeer !== 'object' || Array.isArray(byPeer)) return null;
  const entries = Object.entries(byPeer);
  if (entries.length > 256 || !entries.every(([id, n]) => isId(id) && isCount(n, total * 16))) return null;
  return Object.fromEntries(entries);
}

// A start or end message: {event: 'start'|'end', render, side, maxIter,
// total, state?}, or null if `message` is not one.
export function decodeControl(message, canvas) {
  if (!message || typeof message !== 'object' || message.type !== MESSAGE_TYPE) return null;
  if (message.event !== 'start' && message.event !== 'end') return null;
  const render = checkRender(message, canvas);
  if (!render) return null;
  const state = message.event === 'end' ? message.state : 'running';
  if (!['running', 'done', 'cancelled', 'failed'].includes(state)) return null;
  return { event: message.event, ...render, state };
}

export function encodeControl(event, render, state = 'running') {
  const { side } = render.grid;
  return { type: MESSAGE_TYPE, event, render: render.id, side, maxIter: render.maxIter, total: render.total, state };
}

// One accepted tile of `render` (a TileRender) as bytes.
export function encodeTile(render, index) {
  const counts = render.counts[index];
  const bits = render.maxIter <= 0xffff ? 16 : 32;
  const header = utf8Encoder.encode(JSON.stringify({
    render: render.id,
    side: render.grid.side,
    maxIter: render.maxIter,
    total: render.total,
    index,
    done: render.done,
    peers: render.tilePeers[index],
    byPeer: render.byPeer,
    bits,
  }));
  const start = Math.ceil((8 + header.length) / 4) * 4;
  const packed = bits === 16 ? Uint16Array.from(counts) : counts;
  const bytes = new Uint8Array(start + packed.byteLength);
  bytes.set(MAGIC, 0);
  new DataView(bytes.buffer).setUint32(4, header.length, true);
  bytes.set(header, 8);
  bytes.set(new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength), start);
  return bytes;
}

function readHeader(bytes) {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (length > 64 * 1024 || 8 + length > bytes.length) return null;
  try {
    return { header: JSON.parse(utf8Decoder.decode(bytes.subarray(8, 8 + length))), start: Math.ceil((8 + length) / 4) * 4 };
  } catch {
    return null;
  }
}

// A tile message: {render, side, maxIter, total, index, done, peers, byPeer,
// counts}, or null if `bytes` is not a well-formed one for this canvas.
export function decodeTile(bytes, canvas) {
  if (!(bytes instanceof Uint8Array)) return null;
  const read = readHeader(bytes);
  if (!read) return null;
  const { header, start } = read;
  const render = checkRender(header, canvas);
  if (!render || (header.bits !== 16 && header.bits !== 32)) return null;
  const { index, done, peers } = header;
  if (!isCount(index, render.total - 1) || !isCount(done, render.total)) return null;
  if (!Array.isArray(peers) || peers.length === 0 || peers.length > 16 || !peers.every(isId)) return null;
  const byPeer = checkByPeer(header.byPeer, render.total);
  if (!byPeer) return null;
  const pixels = (canvas.width / render.side) * (canvas.height / render.side);
  if (bytes.length - start !== pixels * (header.bits / 8)) return null;
  // A copy: the counts must start on an aligned offset of their own buffer.
  const raw = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length);
  const counts = header.bits === 16 ? new Uint16Array(raw) : new Uint32Array(raw);
  return { ...render, index, done, peers: [...peers], byPeer, counts };
}
