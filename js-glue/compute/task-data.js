// The codec for the data of compute tasks (inputs and results) that travel
// between peers: a subset of CBOR (RFC 8949) that the kernel reads with
// nlohmann::json::from_cbor(..., cbor_tag_handler_t::store) and writes with
// to_cbor. Peers compare results byte for byte, so encoding is deterministic:
// shortest heads, definite lengths, float64 for every non-integer, and object
// keys in insertion order.
import { KERNEL_RULES } from '../rules/kernel-rules.js';

const MAX_DEPTH = 256;
const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// Without cross-origin isolation browsers have no SharedArrayBuffer.
const SharedBuffer = globalThis.SharedArrayBuffer ?? ArrayBuffer;

// RFC 8746 tags for little-endian typed arrays, as the kernel reads them
// (wasm/compute/task_data.h); Uint8Array, ArrayBuffer and DataView travel as
// a plain byte string instead.
export const TYPED_ARRAY_TAGS = Object.freeze(
  Object.fromEntries(
    Object.entries(KERNEL_RULES.taskData).map(([name, { tag, elementBytes }]) => {
      if (globalThis[name]?.BYTES_PER_ELEMENT !== elementBytes) throw new Error(`peercompute: the kernel's task data tag ${tag} names ${name} of ${elementBytes}-byte elements, which this runtime lacks`);
      return [name, tag];
    }),
  ),
);
const CONSTRUCTOR_BY_TAG = new Map(Object.entries(TYPED_ARRAY_TAGS).map(([name, tag]) => [tag, globalThis[name]]));

// A brand check that, unlike instanceof, works across realms and sees Node's
// Buffer as the Uint8Array it is. It gives undefined for anything else.
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;

const textEncoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF: it is part of the string, not a marker.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Surrogate}/u; // with the u flag, paired surrogates never match
const isWellFormed = (text) => (text.isWellFormed ? text.isWellFormed() : !LONE_SURROGATE.test(text));

// The wire is little-endian; only big-endian hosts need this.
function swapBytes(bytes, elementSize) {
  for (let i = 0; i < bytes.length; i += elementSize) bytes.subarray(i, i + elementSize).reverse();
}

const ARG_INFO_BY_SIZE = { 2: 24, 3: 25, 5: 26, 9: 27 };
const headSize = (arg) => (arg < 24 ? 1 : arg < 0x100 ? 2 : arg < 0x10000 ? 3 : arg < 0x1_0000_0000 ? 5 : 9);

class Writer {
  constructor() {
    this.out = new Uint8Array(256);
    this.view = new DataView(this.out.buffer);
    this.pos = 0;
  }

  reserve(count) {
    if (this.pos + count <= this.out.length) return;
    const grown = new Uint8Array(Math.max(this.out.length * 2, this.pos + count));
    grown.set(this.out.subarray(0, this.pos));
    this.out = grown;
    this.view = new DataView(grown.buffer);
  }

  // arg is a number below 2^53 or a bigint below 2^64.
  head(major, arg) {
    this.reserve(9);
    const { view, pos } = this;
    const size = headSize(arg);
    if (size === 9) view.setBigUint64(pos + 1, BigInt(arg));
    else arg = Number(arg);
    view.setUint8(pos, (major << 5) | (size === 1 ? arg : ARG_INFO_BY_SIZE[size]));
    if (size === 2) view.setUint8(pos + 1, arg);
    else if (size === 3) view.setUint16(pos + 1, arg);
    else if (size === 5) view.setUint32(pos + 1, arg);
    this.pos += size;
  }

  float64(value) {
    this.reserve(9);
    this.view.setUint8(this.pos, 0xfb);
    // One NaN for all: NaN payloads differ between engines and would break byte equality.
    if (Number.isNaN(value)) this.view.setBigUint64(this.pos + 1, 0x7ff8_0000_0000_0000n);
    else this.view.setFloat64(this.pos + 1, value);
    this.pos += 9;
  }

  // UTF-8 is at most 3 bytes per UTF-16 unit: encode after the largest head
  // that could be needed, then slide left if the real length needs a shorter one.
  text(value) {
    const maxBytes = value.length * 3;
    this.reserve(9 + maxBytes);
    const start = this.pos + headSize(maxBytes);
    const { written } = textEncoder.encodeInto(value, this.out.subarray(start));
    this.head(3, written);
    if (this.pos !== start) this.out.copyWithin(this.pos, start, start + written);
    this.pos += written;
  }

  byteString(bytes, elementSize = 1) {
    this.head(2, bytes.length);
    this.reserve(bytes.length);
    this.out.set(bytes, this.pos);
    if (!LITTLE_ENDIAN && elementSize > 1) swapBytes(this.out.subarray(this.pos, this.pos + bytes.length), elementSize);
    this.pos += bytes.length;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
function renderPath(root, path) {
  let text = root;
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : IDENTIFIER.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return text;
}

const HINTS = { Date: 'send a number or a string', Map: 'send a plain object', Set: 'send an array', Promise: 'await it first' };
function notData(where, value) {
  if (value === undefined) return new TypeError(`${where} is undefined, not data`);
  if (typeof value !== 'object') return new TypeError(`${where} is a ${typeof value}, not data`);
  const ctor = Object.getPrototypeOf(value)?.constructor;
  const name = (typeof ctor === 'function' && ctor.name) || Object.prototype.toString.call(value).slice(8, -1);
  const hint = HINTS[name] ?? (Array.isArray(value) || ArrayBuffer.isView(value) ? undefined : 'send a plain object');
  return new TypeError(`${where} is ${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}, not data${hint ? `; ${hint}` : ''}`);
}

export function encodeTaskData(value, what = 'value') {
  const writer = new Writer();
  const path = []; // rendered only when something fails, so the happy path builds no strings
  const ancestors = new Set();
  const here = () => renderPath(what, path);

  function encode(item, depth) {
    switch (typeof item) {
      case 'number':
        if (Number.isSafeInteger(item) && !Object.is(item, -0)) writer.head(item >= 0 ? 0 : 1, item >= 0 ? item : -1 - item);
        else writer.float64(item);
        return;
      case 'string':
        if (!isWellFormed(item)) throw new TypeError(`${here()} is a string with a lone surrogate, not data`);
        return writer.text(item);
      case 'boolean':
        return writer.head(7, item ? 21 : 20); // simple values true and false
      case 'bigint':
        if (item >= 0n && item <= MAX_UINT64) return writer.head(0, item);
        if (item < 0n && item >= -1n - MAX_UINT64) return writer.head(1, -1n - item);
        throw new TypeError(`${here()} is a bigint outside the 64-bit range, not data`);
      case 'object':
        if (item === null) return writer.head(7, 22);
        return encodeObject(item, depth);
      default:
        throw notData(here(), item);
    }
  }

  function encodeObject(object, depth) {
    const name = typedArrayName.call(object);
    if (name === 'Uint8Array') return writer.byteString(object);
    if (name !== undefined) {
      if (!Object.hasOwn(TYPED_ARRAY_TAGS, name)) throw notData(here(), object);
      writer.head(6, TYPED_ARRAY_TAGS[name]);
      const bytes = new Uint8Array(object.buffer, object.byteOffset, object.byteLength);
      return writer.byteString(bytes, globalThis[name].BYTES_PER_ELEMENT);
    }
    if (ArrayBuffer.isView(object)) return writer.byteString(new Uint8Array(object.buffer, object.byteOffset, object.byteLength));
    if (object instanceof ArrayBuffer || object instanceof SharedBuffer) return writer.byteString(new Uint8Array(object));

    const isArray = Array.isArray(object);
    const proto = Object.getPrototypeOf(object);
    if (!isArray && proto !== Object.prototype && proto !== null) throw notData(here(), object);
    if (ancestors.has(object)) throw new TypeError(`${what} contains a cycle at ${here()}`);
    if (depth >= MAX_DEPTH) throw new TypeError(`${here()} is nested more than ${MAX_DEPTH} levels deep, not data`);
    ancestors.add(object);
    if (isArray) {
      writer.head(4, object.length);
      for (let i = 0; i < object.length; i++) {
        path.push(i);
        encode(object[i], depth + 1);
        path.pop();
      }
    } else {
      const keys = Object.keys(object);
      writer.head(5, keys.length);
      for (const key of keys) {
        if (!isWellFormed(key)) throw new TypeError(`${here()} has a key with a lone surrogate, not data`);
        writer.text(key);
        path.push(key);
        encode(object[key], depth + 1);
        path.pop();
      }
    }
    ancestors.delete(object); // shared, acyclic references are fine: each is encoded where it appears
  }

  encode(value, 0);
  return writer.out.slice(0, writer.pos);
}

const malformed = (why) => new Error(`malformed task data: ${why}`);

function halfToNumber(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(count) {
    if (count > this.bytes.length - this.pos) throw malformed(`truncated at byte ${this.pos}`);
  }

  // The argument comes back as a number below 2^53, else as a bigint.
  head() {
    this.need(1);
    const at = this.pos;
    const initial = this.bytes[this.pos++];
    const info = initial & 31;
    if (info > 27) throw malformed(`unsupported initial byte 0x${initial.toString(16)} at byte ${at}`);
    const size = info < 24 ? 0 : 1 << (info - 24);
    this.need(size);
    const { view, pos } = this;
    this.pos += size;
    let arg = info;
    if (size === 1) arg = view.getUint8(pos);
    else if (size === 2) arg = view.getUint16(pos);
    else if (size === 4) arg = view.getUint32(pos);
    else if (size === 8) arg = view.getBigUint64(pos);
    if (typeof arg === 'bigint' && arg <= MAX_SAFE_BIGINT) arg = Number(arg);
    return { major: initial >> 5, arg, at };
  }

  // Checked before anything is allocated, so a forged length cannot ask for gigabytes.
  length(arg, at, minBytesPerItem) {
    const remaining = this.bytes.length - this.pos;
    if (typeof arg !== 'number' || arg * minBytesPerItem > remaining) throw malformed(`length ${arg} at byte ${at} exceeds the ${remaining} bytes left`);
    return arg;
  }

  take(arg, at) {
    const count = this.length(arg, at, 1);
    this.pos += count;
    return this.bytes.subarray(this.pos - count, this.pos);
  }

  text(arg, at) {
    const bytes = this.take(arg, at);
    try {
      return textDecoder.decode(bytes);
    } catch {
      throw malformed(`invalid UTF-8 in the string at byte ${at}`);
    }
  }

  item(depth) {
    this.need(1);
    if (this.bytes[this.pos] >> 5 === 7) return this.simple();
    const { major, arg, at } = this.head();
    if ((major === 4 || major === 5) && depth >= MAX_DEPTH) throw malformed(`nested more than ${MAX_DEPTH} levels deep at byte ${at}`);
    switch (major) {
      case 0:
        return arg;
      case 1:
        return typeof arg === 'number' && arg < Number.MAX_SAFE_INTEGER ? -1 - arg : -1n - BigInt(arg);
      case 2:
        return this.take(arg, at).slice();
      case 3:
        return this.text(arg, at);
      case 4: {
        const count = this.length(arg, at, 1);
        const array = [];
        for (let i = 0; i < count; i++) array.push(this.item(depth + 1));
        return array;
      }
      case 5: {
        const count = this.length(arg, at, 2);
        const object = {};
        for (let i = 0; i < count; i++) {
          const key = this.head();
          if (key.major !== 3) throw malformed(`the map key at byte ${key.at} is not a text string`);
          const name = this.text(key.arg, key.at);
          if (Object.hasOwn(object, name)) throw malformed(`duplicate map key ${JSON.stringify(name)} at byte ${key.at}`);
          const value = this.item(depth + 1);
          // Plain assignment of '__proto__' would set the prototype instead of a property.
          if (name === '__proto__') Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
          else object[name] = value;
        }
        return object;
      }
      default:
        return this.typedArray(arg, at);
    }
  }

  typedArray(tag, at) {
    const Constructor = CONSTRUCTOR_BY_TAG.get(tag);
    if (!Constructor) throw malformed(`unknown tag ${tag} at byte ${at}`);
    const head = this.head();
    if (head.major !== 2) throw malformed(`tag ${tag} at byte ${at} does not wrap a byte string`);
    const size = Constructor.BYTES_PER_ELEMENT;
    const content = this.take(head.arg, head.at);
    if (content.length % size !== 0) throw malformed(`tag ${tag} at byte ${at} wraps ${content.length} bytes, not a multiple of ${size}`);
    // A copy, so that the array is aligned and owns its buffer.
    const array = new Constructor(content.length / size);
    const bytes = new Uint8Array(array.buffer);
    bytes.set(content);
    if (!LITTLE_ENDIAN && size > 1) swapBytes(bytes, size);
    return array;
  }

  simple() {
    const at = this.pos;
    const initial = this.bytes[this.pos++];
    const size = { 0xf9: 2, 0xfa: 4, 0xfb: 8 }[initial] ?? 0;
    this.need(size);
    this.pos += size;
    switch (initial) {
      case 0xf4: return false;
      case 0xf5: return true;
      case 0xf6: return null;
      case 0xf9: return halfToNumber(this.view.getUint16(at + 1));
      case 0xfa: return this.view.getFloat32(at + 1);
      case 0xfb: return this.view.getFloat64(at + 1);
      default: throw malformed(`unsupported initial byte 0x${initial.toString(16)} at byte ${at}`);
    }
  }
}

export function decodeTaskData(input) {
  let bytes;
  if (ArrayBuffer.isView(input)) bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  else if (input instanceof ArrayBuffer || input instanceof SharedBuffer) bytes = new Uint8Array(input);
  else throw new TypeError('task data must be a Uint8Array or an ArrayBuffer');
  // TextDecoder refuses shared memory, and another thread could change it mid-decode.
  if (!(bytes.buffer instanceof ArrayBuffer)) bytes = bytes.slice();
  const reader = new Reader(bytes);
  const value = reader.item(0);
  if (reader.pos !== bytes.length) throw malformed(`${bytes.length - reader.pos} trailing bytes after the value`);
  return value;
}
