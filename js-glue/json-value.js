// Turns an application value into JSON text, or throws an Error that names the
// argument and says why JSON cannot hold it. JSON.stringify alone would drop
// functions and turn NaN into null without a word.

function describePath(path) {
  return path.length === 0 ? '' : ` at '${path.join('.')}'`;
}

function check(value, path, seen, where) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${where} is ${value}${describePath(path)}; JSON cannot hold non-finite numbers`);
      return;
    case 'bigint':
      throw new TypeError(`${where} contains a BigInt${describePath(path)}; JSON cannot hold BigInt (convert it to a string or number)`);
    case 'function':
      throw new TypeError(`${where} contains a function${describePath(path)}; JSON cannot hold functions`);
    case 'symbol':
      throw new TypeError(`${where} contains a symbol${describePath(path)}; JSON cannot hold symbols`);
    case 'undefined':
      throw new TypeError(`${where} is undefined${describePath(path)}; use null, or delete the key`);
    default:
      break;
  }
  if (value === null) return;
  if (seen.has(value)) throw new TypeError(`${where} contains a cycle${describePath(path)}; JSON cannot hold cycles`);
  if (typeof value.toJSON === 'function') return; // Date and friends choose their own JSON form
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) check(value[i] === undefined ? null : value[i], [...path, i], seen, where);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = value?.constructor?.name ?? 'object';
      throw new TypeError(`${where} contains a ${kind}${describePath(path)}; only plain objects, arrays and primitives are JSON`);
    }
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v !== undefined) check(v, [...path, key], seen, where); // JSON drops undefined properties
    }
  }
  seen.delete(value);
}

export function toJsonText(value, where) {
  // Primitives need no walk; they are the common case for game state.
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value);
  check(value, [], new Set(), where);
  return JSON.stringify(value);
}

export function requireKey(key, where) {
  if (typeof key !== 'string') throw new TypeError(`${where}: key must be a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new TypeError(`${where}: key must not be empty`);
  return key;
}
