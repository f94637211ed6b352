// The task-data codec: the CBOR bytes that carry compute inputs and results
// between peers, and that the kernel reads and writes with nlohmann::json.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';

import { decodeTaskData, encodeTaskData, TYPED_ARRAY_TAGS } from '../../dist/compute/task-data.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (text) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const roundTrip = (value) => decodeTaskData(encodeTaskData(value));
const notData = (message) => ({ name: 'TypeError', message });
const MALFORMED = { name: 'Error', message: /^malformed task data: / };

describe('encodeTaskData writes the exact bytes', () => {
  const cases = [
    [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'], [65536, '1a00010000'],
    [2 ** 32 - 1, '1affffffff'], [2 ** 32, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'], [-24, '37'], [-25, '3818'], [-(2 ** 53 - 1), '3b001ffffffffffffe'],
    [1.5, 'fb3ff8000000000000'], [0.5, 'fb3fe0000000000000'], [-0, 'fb8000000000000000'], [NaN, 'fb7ff8000000000000'],
    [Infinity, 'fb7ff0000000000000'], [-Infinity, 'fbfff0000000000000'], [2 ** 53, 'fb4340000000000000'],
    [5n, '05'], [-5n, '24'], [2n ** 53n, '1b0020000000000000'], [2n ** 64n - 1n, '1bffffffffffffffff'], [-(2n ** 64n), '3bffffffffffffffff'],
    ['', '60'], ['a', '6161'], ['é', '62c3a9'], ['😀', '64f09f9880'], ['x'.repeat(24), '7818' + '78'.repeat(24)],
    // Room for 3 bytes a unit would need a longer head than the real length: the bytes slide left.
    ['é'.repeat(8), '70' + 'c3a9'.repeat(8)], ['é'.repeat(100), '78c8' + 'c3a9'.repeat(100)],
    [true, 'f5'], [false, 'f4'], [null, 'f6'],
    [[], '80'], [[1, [2]], '82018102'], [['é'.repeat(8), 1], '8270' + 'c3a9'.repeat(8) + '01'],
    [{}, 'a0'], [{ a: 1 }, 'a1616101'], [{ b: 1, a: [] }, 'a2616201616180'], [Object.assign(Object.create(null), { a: 1 }), 'a1616101'],
    [new Uint8Array([1, 2]), '420102'], [Buffer.from([1, 2]), '420102'], [new Uint8Array([1, 2]).buffer, '420102'],
    [new Uint8Array([0, 1, 2, 3]).subarray(1, 3), '420102'], [new DataView(new Uint8Array([0, 1, 2, 3]).buffer, 1, 2), '420102'],
    [new Uint32Array([1, 2]), 'd846480100000002000000'], [new Uint32Array([0, 1, 2]).subarray(1), 'd846480100000002000000'],
    [new Int8Array([-1]), 'd84841ff'], [new Uint8ClampedArray([300]), 'd84441ff'], [new Int16Array([-2]), 'd84d42feff'],
    [new Float32Array([1.5]), 'd855440000c03f'], [new Float64Array([1.5]), 'd85648000000000000f83f'],
    [new BigInt64Array([-1n]), 'd84f48ffffffffffffffff'], [new BigUint64Array([1n]), 'd8474801' + '00'.repeat(7)],
    [new Float64Array(0), 'd85640'],
  ];
  for (const [value, expected] of cases) {
    it(`${inspect(value, { maxStringLength: 12, maxArrayLength: 4, breakLength: Infinity })} → ${expected.slice(0, 24)}`, () => {
      assert.equal(hex(encodeTaskData(value)), expected);
    });
  }

  it('returns bytes that own an exactly sized buffer', () => {
    const bytes = encodeTaskData({ text: 'x'.repeat(1000) });
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
  });

  it('exports the RFC 8746 tag of each typed array it tags', () => {
    assert.deepEqual({ ...TYPED_ARRAY_TAGS }, {
      Uint8ClampedArray: 68, Uint16Array: 69, Uint32Array: 70, BigUint64Array: 71, Int8Array: 72,
      Int16Array: 77, Int32Array: 78, BigInt64Array: 79, Float32Array: 85, Float64Array: 86,
    });
    assert.ok(Object.isFrozen(TYPED_ARRAY_TAGS));
  });
});

describe('round trips', () => {
  it('restores a nested structure with every typed array kind', () => {
    const value = {
      name: 'job',
      arrays: [
        new Uint8Array([0, 255]), new Uint8ClampedArray([0, 128, 255]), new Uint16Array([1, 65535]), new Uint32Array([1, 2 ** 32 - 1]),
        new BigUint64Array([0n, 2n ** 64n - 1n]), new Int8Array([-128, 127]), new Int16Array([-32768, 32767]),
        new Int32Array([-(2 ** 31), 2 ** 31 - 1]), new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
        new Float32Array([1.5, -0, Infinity]), new Float64Array([Math.PI, -1e300, Number.MIN_VALUE]),
      ],
      nested: { deeper: [{ list: [1, -2, 3.25, 'three', null, true, false] }] },
    };
    const back = roundTrip(value);
    assert.deepEqual(back, value);
    assert.deepEqual(back.arrays.map((array) => array.constructor.name), value.arrays.map((array) => array.constructor.name));
    assert.ok(Object.is(back.arrays[9][1], -0));
  });

  it('decodes a byte string into a Uint8Array that owns its buffer, whatever was sent', () => {
    const source = new Uint8Array([9, 1, 2, 3, 9]);
    for (const sent of [source.subarray(1, 4), new DataView(source.buffer, 1, 3), source.slice(1, 4).buffer]) {
      const back = roundTrip(sent);
      assert.equal(Object.getPrototypeOf(back), Uint8Array.prototype);
      assert.deepEqual([...back], [1, 2, 3]);
      assert.equal(back.buffer.byteLength, 3);
    }
  });

  it('gives a bigint back as a number when the number is safe, else as a bigint', () => {
    assert.equal(roundTrip(5n), 5);
    assert.equal(roundTrip(-(2n ** 53n) + 1n), -(2 ** 53) + 1);
    for (const big of [2n ** 53n, 2n ** 60n, 2n ** 64n - 1n, -(2n ** 53n), -(2n ** 64n)]) assert.equal(roundTrip(big), big);
  });

  it('keeps unicode strings intact, including a leading byte order mark', () => {
    for (const text of ['', 'héllo wörld', '日本語', '😀👍🏽', '\uFEFFbom', '\0', 'ab😀'.repeat(100_000)]) assert.equal(roundTrip(text), text);
  });

  it('keeps empty containers and the special numbers', () => {
    assert.deepEqual(roundTrip([[], {}, new Uint8Array(0), new Float32Array(0), [[]], { a: {} }]),
      [[], {}, new Uint8Array(0), new Float32Array(0), [[]], { a: {} }]);
    const [nan, negativeZero, infinity, negativeInfinity, unsafe] = roundTrip([NaN, -0, Infinity, -Infinity, 2 ** 60]);
    assert.ok(Number.isNaN(nan));
    assert.ok(Object.is(negativeZero, -0));
    assert.equal(infinity, Infinity);
    assert.equal(negativeInfinity, -Infinity);
    assert.equal(unsafe, 2 ** 60);
  });

  it('makes a __proto__ key an own property, never the prototype', () => {
    const back = roundTrip(JSON.parse('{"__proto__": {"polluted": true}, "x": 1}'));
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.ok(Object.hasOwn(back, '__proto__'));
    assert.deepEqual(Object.keys(back), ['__proto__', 'x']);
    assert.equal({}.polluted, undefined);
  });

  it('encodes a shared, acyclic reference at each place it appears', () => {
    const shared = { x: 1 };
    assert.deepEqual(roundTrip({ p: shared, q: [shared] }), { p: { x: 1 }, q: [{ x: 1 }] });
  });

  it('allows 256 levels of nesting', () => {
    let value = 0;
    for (let i = 0; i < 256; i++) value = i % 2 ? [value] : { k: value };
    assert.deepEqual(roundTrip(value), value);
  });

  it('round-trips a 4 MiB Uint32Array inside a structure', () => {
    const big = new Uint32Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = Math.imul(i, 2654435761) >>> 0;
    const bytes = encodeTaskData({ meta: 'first', data: big, after: [1, 2] });
    assert.equal(bytes.length, 1 + 5 + 6 + 5 + 2 + 5 + big.byteLength + 6 + 3);
    const back = decodeTaskData(bytes);
    assert.ok(back.data instanceof Uint32Array);
    assert.ok(Buffer.from(back.data.buffer).equals(Buffer.from(big.buffer)));
    assert.deepEqual(back.after, [1, 2]);
  });
});

describe('determinism', () => {
  it('gives the same bytes for the same value, and for an equal value built apart', () => {
    const make = () => ({ id: 7, points: [[1.5, -2], [3, 4]], label: 'ünïcode', raw: new Float64Array([0.1, 0.2]), big: 2n ** 60n });
    const value = make();
    assert.deepEqual(encodeTaskData(value), encodeTaskData(value));
    assert.deepEqual(encodeTaskData(make()), encodeTaskData(value));
  });

  it('orders keys as they were inserted', () => {
    assert.equal(hex(encodeTaskData({ a: 1, b: 2 })), 'a2616101616202');
    assert.equal(hex(encodeTaskData({ b: 2, a: 1 })), 'a2616202616101');
    assert.deepEqual(Object.keys(roundTrip({ b: 2, a: 1, c: 3 })), ['b', 'a', 'c']);
  });

  it('writes every NaN as the same bytes, whatever its payload', () => {
    const payloadNaN = new Float64Array(new BigUint64Array([0x7ff8_0000_0000_0001n, 0xfff8_0000_0000_0000n]).buffer);
    assert.equal(hex(encodeTaskData([...payloadNaN])), '82' + 'fb7ff8000000000000'.repeat(2));
  });
});

describe('encodeTaskData refuses what is not data, naming where', () => {
  it('names the path of a function', () => {
    assert.throws(() => encodeTaskData({ points: [1, 2, () => {}] }, 'inputs[3]'), notData('inputs[3].points[2] is a function, not data'));
  });

  it('names the path of a Date and suggests what to send', () => {
    assert.throws(() => encodeTaskData({ when: new Date(0) }, 'result'), notData('result.when is a Date, not data; send a number or a string'));
  });

  it('refuses undefined at the root, as a value and as an array hole', () => {
    assert.throws(() => encodeTaskData(undefined), notData('value is undefined, not data'));
    assert.throws(() => encodeTaskData({ a: undefined }), notData('value.a is undefined, not data'));
    assert.throws(() => encodeTaskData([1, , 3]), notData('value[1] is undefined, not data')); // eslint-disable-line no-sparse-arrays
  });

  it('names symbols, collections, promises, regexps, errors and class instances', () => {
    class Point {}
    const cases = [
      [{ s: Symbol('s') }, 'value.s is a symbol, not data'],
      [new Map(), 'value is a Map, not data; send a plain object'],
      [[new Set()], 'value[0] is a Set, not data; send an array'],
      [{ p: Promise.resolve() }, 'value.p is a Promise, not data; await it first'],
      [{ r: /x/ }, 'value.r is a RegExp, not data; send a plain object'],
      [{ e: new Error('x') }, 'value.e is an Error, not data; send a plain object'],
      [{ at: new Point() }, 'value.at is a Point, not data; send a plain object'],
      [{ n: new Number(1) }, 'value.n is a Number, not data; send a plain object'], // eslint-disable-line no-new-wrappers
    ];
    for (const [value, message] of cases) assert.throws(() => encodeTaskData(value), notData(message));
  });

  it('quotes keys that are not identifiers', () => {
    assert.throws(() => encodeTaskData({ 'odd key': { 0: [Symbol.iterator] } }), notData('value["odd key"]["0"][0] is a symbol, not data'));
  });

  it('names where a cycle closes', () => {
    const object = { a: { b: null } };
    object.a.b = object;
    assert.throws(() => encodeTaskData(object), notData('value contains a cycle at value.a.b'));
    const array = [1];
    array.push([array]);
    assert.throws(() => encodeTaskData(array, 'result'), notData('result contains a cycle at result[1][0]'));
  });

  it('refuses lone surrogates in strings and in keys, but not pairs', () => {
    assert.throws(() => encodeTaskData({ s: 'a\uD800' }), notData('value.s is a string with a lone surrogate, not data'));
    assert.throws(() => encodeTaskData({ list: [{ '\uDC00': 1 }] }), notData('value.list[0] has a key with a lone surrogate, not data'));
    assert.equal(roundTrip('\uD83D\uDE00'), '😀');
  });

  it('refuses bigints outside 64 bits', () => {
    assert.throws(() => encodeTaskData({ n: 2n ** 64n }), notData('value.n is a bigint outside the 64-bit range, not data'));
    assert.throws(() => encodeTaskData([-(2n ** 64n) - 1n]), notData('value[0] is a bigint outside the 64-bit range, not data'));
  });

  it('refuses nesting deeper than 256 levels', () => {
    let value = 0;
    for (let i = 0; i < 257; i++) value = [value];
    assert.throws(() => encodeTaskData(value), notData(`value${'[0]'.repeat(256)} is nested more than 256 levels deep, not data`));
  });
});

describe('decodeTaskData reads what nlohmann::json writes', () => {
  const cases = [
    ['fa3fc00000', 1.5], ['fa7f800000', Infinity], ['faff800000', -Infinity], ['fa3e800000', 0.25],
    ['f93c00', 1], ['f9c000', -2], ['f97bff', 65504], ['f93555', 0.333251953125], ['f90001', 2 ** -24], ['f903ff', 1023 * 2 ** -24],
    ['f97c00', Infinity], ['f9fc00', -Infinity],
    ['1bffffffffffffffff', 2n ** 64n - 1n], ['3bffffffffffffffff', -(2n ** 64n)], ['1b0020000000000000', 2n ** 53n],
    ['1b001fffffffffffff', Number.MAX_SAFE_INTEGER], ['3b001ffffffffffffe', -(2 ** 53 - 1)], ['3b001fffffffffffff', -(2n ** 53n)],
  ];
  for (const [bytes, expected] of cases) {
    it(`${bytes} → ${typeof expected === 'bigint' ? `${expected}n` : expected}`, () => assert.equal(decodeTaskData(fromHex(bytes)), expected));
  }

  it('decodes half-precision NaN and -0', () => {
    assert.ok(Number.isNaN(decodeTaskData(fromHex('f97e00'))));
    assert.ok(Object.is(decodeTaskData(fromHex('f98000')), -0));
  });

  it('decodes a map with compact floats', () => {
    assert.deepEqual(decodeTaskData(fromHex('a2 6178 fa3fc00000 6179 f93c00')), { x: 1.5, y: 1 });
  });

  it('decodes from an ArrayBuffer and from an unaligned view into an aligned typed array', () => {
    const padded = fromHex('00 d84e48 ffffffff 02000000');
    const back = decodeTaskData(padded.subarray(1));
    assert.ok(back instanceof Int32Array);
    assert.deepEqual([...back], [-1, 2]);
    assert.equal(back.byteOffset, 0);
    assert.deepEqual(decodeTaskData(fromHex('820102').buffer), [1, 2]);
  });

  it('refuses an argument that is not bytes', () => {
    assert.throws(() => decodeTaskData('00'), { name: 'TypeError' });
    assert.throws(() => decodeTaskData([0]), { name: 'TypeError' });
  });
});

describe('decodeTaskData refuses malformed bytes', () => {
  const cases = {
    empty: '',
    'truncated head': '1901',
    'truncated string': '636161',
    'truncated array': '8201',
    'truncated float': 'fb3ff8',
    'truncated half': 'f93c',
    'truncated 8-byte argument': '1b00000001000000',
    'map without its value': 'a16161',
    'trailing bytes': '0000',
    'indefinite byte string': '5f4100ff',
    'indefinite text': '7f6161ff',
    'indefinite array': '9f01ff',
    'indefinite map': 'bf616101ff',
    'a lone break': 'ff',
    'reserved info 28': '1c',
    'reserved info 29': '3d',
    'reserved info 30': '5e',
    'reserved info in a tag': 'dc',
    'invalid UTF-8': '62c328',
    'overlong UTF-8': '62c0af',
    'an encoded surrogate': '63eda080',
    'an integer map key': 'a10102',
    'a byte string map key': 'a1416101',
    'duplicate keys': 'a2616101616102',
    'tag 0 (date)': 'c0 74 323032302d30312d30315430303a30303a30305a',
    'tag 2 (bignum)': 'c24101',
    'tag 64 (Uint8Array, sent as plain bytes instead)': 'd84041ff',
    'a typed array tag around an array': 'd8468101',
    'a typed array of a partial element': 'd84643010203',
    undefined: 'f7',
    'simple value 16': 'f0',
    'one-byte simple value': 'f820',
    'reserved major 7 info 28': 'fc',
    'arrays 257 deep': '81'.repeat(257) + '00',
    'maps 257 deep': 'a16161'.repeat(257) + '00',
  };
  for (const [name, bytes] of Object.entries(cases)) {
    it(`refuses ${name}`, () => assert.throws(() => decodeTaskData(fromHex(bytes)), MALFORMED));
  }

  it('accepts the 256-deep nesting whose one extra level it refuses', () => {
    assert.equal(JSON.stringify(decodeTaskData(fromHex('81'.repeat(256) + '00'))), '['.repeat(256) + '0' + ']'.repeat(256));
  });

  it('refuses forged huge lengths before allocating anything', () => {
    const forged = [
      '5bffffffffffffffff', '7bffffffffffffffff', '9bffffffffffffffff', 'bbffffffffffffffff',
      '5affffffff00', '9affffffff', 'ba7fffffff6161', 'd8465b0000000100000000',
    ];
    for (const bytes of forged) assert.throws(() => decodeTaskData(fromHex(bytes)), MALFORMED, bytes);
    assert.throws(() => decodeTaskData(fromHex('5bffffffffffffffff')), { message: /length 18446744073709551615 at byte 0 exceeds the 0 bytes left/ });
    assert.throws(() => decodeTaskData(fromHex('a2616101')), { message: /length 2 at byte 0 exceeds the 3 bytes left/ });
  });
});
