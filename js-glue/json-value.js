import { KERNEL_RULES } from './rules/kernel-rules.js';

const encoder = new TextEncoder();
const MAX_KEY_BYTES = KERNEL_RULES.key.maxBytes; // the kernel's own limit (wasm/rules/app_rules.h)
// A key of at most this many UTF-16 units cannot exceed it (3 bytes per unit at most).
const SURELY_SHORT_KEY = Math.floor(MAX_KEY_BYTES / 3);

function describePath(path) {
  return path.length === 0 ? '' : ` at '${path.join('.')}'`;
}

// Why JSON cannot hold `value`, or null if it can. Checks only this value,
// not what it contains.
function problemWith(value) {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? null : 'contains a lone surrogate';
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `is ${value}`;
    case 'bigint':
      return 'contains a BigInt';
    case 'function':
      return 'contains a function';
    case 'symbol':
      return 'contains a symbol';
    case 'undefined':
      return 'is undefined';
    default:
      break;
  }
  if (value === null || Array.isArray(value) || typeof value.toJSON === 'function') return null;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? null : `contains a ${value.constructor?.name ?? 'object'}`;
}

const HINTS = {
  'contains a lone surrogate': 'the string is not well-formed Unicode, so it has no UTF-8 form',
  'has a property name with a lone surrogate': 'the name is not well-formed Unicode, so it has no UTF-8 form',
  'contains a BigInt': 'JSON cannot hold BigInt (convert it to a string or number)',
  'contains a function': 'JSON cannot hold functions',
  'contains a symbol': 'JSON cannot hold symbols',
  'is undefined': 'use null, or delete the key',
  'contains a cycle': 'JSON cannot hold cycles',
};

function hint(problem) {
  if (HINTS[problem]) return HINTS[problem];
  if (problem.startsWith('is ')) return 'JSON cannot hold non-finite numbers';
  return 'only plain objects, arrays and primitives are JSON';
}

// The fast walk: true when every nested value is JSON. It allocates nothing:
// instead of a set of ancestors it counts depth, since a cycle is endless
// depth. Past MAX_FAST_DEPTH it gives up (false), and the slow walk decides.
const MAX_FAST_DEPTH = 200;

function isJson(value, depth) {
  if (problemWith(value) !== null) return false;
  if (typeof value !== 'object' || value === null || typeof value.toJSON === 'function') return true;
  if (depth >= MAX_FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (value[i] !== undefined && !isJson(value[i], depth + 1)) return false;
    return true;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (!key.isWellFormed()) return false;
    const v = value[key];
    if (v !== undefined && !isJson(v, depth + 1)) return false;
  }
  return true;
}

// The slow walk, only after the fast one failed: finds where and why.
function findProblem(value, path, ancestors) {
  const problem = problemWith(value);
  if (problem !== null) return { problem, path };
  if (typeof value !== 'object' || value === null || typeof value.toJSON === 'function') return null;
  if (ancestors.has(value)) return { problem: 'contains a cycle', path };
  ancestors.add(value);
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof key === 'string' && !key.isWellFormed()) return { problem: 'has a property name with a lone surrogate', path };
    if (v === undefined) continue; // JSON drops undefined properties and nulls array holes
    const found = findProblem(v, [...path, key], ancestors);
    if (found) return found;
  }
  ancestors.delete(value);
  return null;
}

// Turns an application value into JSON text, or throws a TypeError that names
// the argument and says why JSON cannot hold the value. JSON.stringify alone
// would drop functions and turn NaN into null without a word.
// `where` may be a function that returns the name, for callers that would
// otherwise build a name for every value of a batch only to use none.
export function toJsonText(value, where) {
  // A primitive needs no walk, and no set of ancestors.
  const ok = typeof value === 'object' && value !== null ? isJson(value, 0) : problemWith(value) === null;
  if (!ok) {
    const found = findProblem(value, [], new Set());
    // None found: deeper than the fast walk goes, and JSON all the same.
    if (found) {
      const name = typeof where === 'function' ? where() : where;
      throw new TypeError(`${name} ${found.problem}${describePath(found.path)}; ${hint(found.problem)}`);
    }
  }
  return JSON.stringify(value);
}

export function requireKey(key, where) {
  if (typeof key !== 'string') throw new TypeError(`${where}: key must be a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new TypeError(`${where}: key must not be empty`);
  if (!key.isWellFormed()) throw new TypeError(`${where}: key contains a lone surrogate; it must be well-formed Unicode`);
  if (key.length > SURELY_SHORT_KEY && encoder.encode(key).length > MAX_KEY_BYTES) {
    throw new TypeError(`${where}: key is longer than ${MAX_KEY_BYTES} bytes of UTF-8`);
  }
  return key;
}

// UTF-8 size of well-formed text: one unit of a surrogate pair is 2 bytes.
export function utf8Length(text) {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return n;
}
