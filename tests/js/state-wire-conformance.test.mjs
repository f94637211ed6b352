// The replicated state's frames against wasm/wire/PROTOCOL.md (version 2),
// through an independent codec written from the document
// (tests/js/conformance/state-wire.js), with the built library (dist/) in
// Node. Both directions:
//   - what the library emits (encodeStateAsUpdate: SyncResponse;
//     encodeStateVector: SyncRequest) decodes with the independent codec and
//     re-encodes to the same bytes, carries exactly the library's state, and
//     the independent merge rule applied to the replicas' decoded writes gives
//     exactly the state the library converges on;
//   - frames the independent codec encodes (Update, SyncResponse) are applied
//     by applyUpdate() as PROTOCOL.md says: the merge order stamp (wall,
//     logical, replicaId), then seq, then a value above a delete, then the
//     value's bytes; the vector rule; the clock rule; and malformed frames are
//     refused.
// So a change of the wire format or of the merge rule on either side fails
// here; PROTOCOL.md, the codec and the kernel must change together.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createNode } from '../../dist/peercompute.js';
import {
  FrameType,
  PROTOCOL_VERSION,
  decodeStateFrame,
  encodeFrame,
  encodeOwnUpdateFrame,
  encodeSyncRequestFrame,
  encodeSyncResponseFrame,
  encodeUpdateFrame,
  encodeWrites,
  expandVector,
  mergeWrites,
  reencodeStateFrame,
  shortVector,
  stampGreater,
  varuintBytes,
} from './conformance/state-wire.js';

let rooms = 0;
const newNode = () => createNode({ roomId: `state-wire-${++rooms}`, enablePersistence: false });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const byKey = (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const byReplica = (a, b) => a.replicaId - b.replicaId;
const replicaIdOf = (node) => node.getStatus().state.replicaId;
const later = (a, b) => a.wall > b.wall || (a.wall === b.wall && a.logical > b.logical);

// Decodes a frame the library emitted with the independent codec, checks its
// type and that the independent encoder gives back exactly its bytes.
function decodeExact(bytes, type, what) {
  assert.ok(bytes instanceof Uint8Array, `${what}: a Uint8Array`);
  assert.equal(bytes[1], PROTOCOL_VERSION, `${what}: version byte`);
  const frame = decodeStateFrame(bytes);
  assert.equal(frame.type, type, `${what}: frame type`);
  assert.equal(hex(reencodeStateFrame(frame)), hex(bytes), `${what}: the independent encoder gives back the same bytes`);
  return frame;
}

// A node's state as the library emits it: its full update (a SyncResponse
// carrying, per key, the write it holds, deletes included) and its vector
// (a SyncRequest). Checks the vector rule between the two: the SyncResponse
// sends the vector short, and the receiver's expansion of it is the vector.
function emitted(state, what) {
  const full = decodeExact(state.encodeStateAsUpdate(), FrameType.SyncResponse, `${what}: encodeStateAsUpdate()`);
  const { vector } = decodeExact(state.encodeStateVector(), FrameType.SyncRequest, `${what}: encodeStateVector()`);
  const keys = full.writes.map((w) => w.key);
  assert.equal(new Set(keys).size, keys.length, `${what}: one write per key`);
  assert.deepEqual([...full.vector].sort(byReplica), shortVector(vector, full.writes), `${what}: the SyncResponse's vector is sent short`);
  assert.deepEqual(expandVector(full.vector, full.writes), [...vector].sort(byReplica), `${what}: the short vector expands to the state vector`);
  return { writes: full.writes, vector };
}

// The library's state is exactly `winners` (key -> write; a null value is a delete).
function assertHolds(state, winners, what) {
  const live = [...winners.values()].filter((w) => w.value !== null);
  assert.deepEqual(state.keys().sort(), live.map((w) => w.key).sort(), `${what}: keys()`);
  for (const w of winners.values()) {
    if (w.value === null) {
      assert.equal(state.has(w.key), false, `${what}: '${w.key}' is deleted`);
      assert.equal(state.read(w.key), undefined, `${what}: '${w.key}' is deleted`);
    } else {
      assert.deepEqual(state.read(w.key), JSON.parse(w.value), `${what}: read('${w.key}')`);
    }
  }
}

// The library holds `w` for its key (and no other write for it).
function assertHeld(state, w, what) {
  if (w.value === null) assert.equal(state.has(w.key), false, `${what}: '${w.key}' is deleted`);
  else assert.deepEqual(state.read(w.key), JSON.parse(w.value), `${what}: read('${w.key}')`);
  const held = emitted(state, what).writes.find((x) => x.key === w.key);
  assert.deepEqual(held, w, `${what}: '${w.key}' is held as sent`);
}

const sameWrites = (actual, expected, what) => assert.deepEqual([...actual].sort(byKey), [...expected].sort(byKey), what);

// The writes of `writes` that a holder of `vector` lacks (PROTOCOL.md: those
// whose seq is above its entry for their writer).
function missingFrom(writes, vector) {
  const seen = new Map(vector.map(({ replicaId, seq }) => [replicaId, seq]));
  return writes.filter((w) => w.seq > (seen.get(w.replicaId) ?? 0));
}

// Brings `to` up to date with `from` as a sync does: to's vector, from's delta
// for it. Checks the delta against from's state and the rule above.
function pull(to, from, what) {
  const { vector } = decodeExact(to.encodeStateVector(), FrameType.SyncRequest, `${what}: asker's vector`);
  const delta = decodeExact(from.encodeStateAsUpdate(to.encodeStateVector()), FrameType.SyncResponse, `${what}: delta`);
  sameWrites(delta.writes, missingFrom(emitted(from, `${what}: sender`).writes, vector), `${what}: the delta carries exactly the writes above the asker's vector`);
  to.applyUpdate(from.encodeStateAsUpdate(to.encodeStateVector()));
}

describe('state frames: the library against the independent PROTOCOL.md codec', () => {
  it('a replica emits frames that re-encode byte for byte and carry its state: writes, deletes, batches, unicode', async () => {
    const node = await newNode();
    const state = node.getStateManager();
    const me = replicaIdOf(node);
    const model = new Map(); // key -> value, or undefined once deleted
    const t0 = Date.now();

    const first = [
      ['plain', 1],
      ['negative', -42.5],
      ['largest safe integer', 2 ** 53 - 1],
      ['tiny', 1e-7],
      ['flags', [true, false, null]],
      ['null value', null], // a JSON null is a value, not a delete
      ['ключ', 'значение'],
      ['键/値', { ネスト: ['深い', { x: 'ü' }] }],
      ['🔑', '🚀 emoji, é and e\u0301'],
      ['with "quotes" \\ and\nnewline\t', 'quotes " backslash \\ control \u0001 nul \u0000'],
      [' ', ''],
      ['k'.repeat(200), 'v'.repeat(200)], // key and value lengths of two varuint bytes
      ['long value', 'é'.repeat(40_000)], // 80,002 bytes of JSON: a length of three bytes
    ];
    for (const [key, value] of first) {
      state.write(key, value);
      model.set(key, value);
    }
    state.flush(); // one transaction
    const batch = { 'batch a': 1, 'batch ключ': ['один', 2], plain: 2, 'never written, deleted in a batch': undefined };
    state.batchWrite(batch);
    for (const [key, value] of Object.entries(batch)) model.set(key, value);
    state.flush();
    await sleep(2);
    state.delete('negative');
    state.delete('🔑');
    model.set('negative', undefined);
    model.set('🔑', undefined);
    state.flush();
    const t1 = Date.now();

    const { writes, vector } = emitted(state, 'one replica');
    assert.deepEqual(vector.map((v) => v.replicaId), [me], 'the vector names only this writer');
    const seqs = writes.map((w) => w.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'every write has its own seq');
    for (const w of writes) {
      assert.equal(w.replicaId, me, `'${w.key}' is written by this replica`);
      assert.ok(w.seq >= 1 && w.seq <= vector[0].seq, `'${w.key}': seq ${w.seq} within the vector (${vector[0].seq})`);
      assert.ok(w.wall >= t0 - 1000 && w.wall <= t1 + 1000, `'${w.key}': wall ${w.wall} is the time of the write (ms since the epoch)`);
    }
    // The writes it holds are its state: every live key with its value, and
    // every key it deleted as a delete (deletes are kept).
    const held = new Map(writes.map((w) => [w.key, w]));
    const live = [...model].filter(([, v]) => v !== undefined);
    assert.deepEqual(writes.filter((w) => w.value !== null).map((w) => w.key).sort(), live.map(([k]) => k).sort(), 'the live keys');
    for (const [key, value] of live) assert.deepEqual(JSON.parse(held.get(key).value), value, `'${key}' as JSON`);
    for (const key of ['negative', '🔑']) assert.equal(held.get(key)?.value, null, `'${key}' is held as a delete`);
    for (const w of writes) if (w.value === null) assert.equal(model.get(w.key), undefined, `'${w.key}' was deleted`);
    assertHolds(state, mergeWrites(writes), 'one replica');
    // Stamps only grow: each transaction's writes are stamped above the earlier ones'.
    const stampOf = (key) => held.get(key);
    for (const [early, late] of [
      ['ключ', 'batch a'],
      ['batch a', 'negative'],
      ['ключ', 'plain'],
    ]) {
      assert.ok(later(stampOf(late), stampOf(early)), `'${late}' (a later transaction) is stamped above '${early}'`);
    }
    const inSeqOrder = [...writes].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < inSeqOrder.length; i++) {
      assert.ok(!later(inSeqOrder[i - 1], inSeqOrder[i]), `seq ${inSeqOrder[i].seq} is not stamped below seq ${inSeqOrder[i - 1].seq}`);
    }

    // Deltas, for vectors built by the independent encoder.
    const mid = inSeqOrder[Math.floor(inSeqOrder.length / 2)].seq;
    for (const since of [[], [{ replicaId: me, seq: mid }], [{ replicaId: me, seq: vector[0].seq }], [{ replicaId: me > 1 ? me - 1 : 2, seq: 5 }]]) {
      const delta = decodeExact(state.encodeStateAsUpdate(encodeSyncRequestFrame(since)), FrameType.SyncResponse, `delta since ${JSON.stringify(since)}`);
      sameWrites(delta.writes, missingFrom(writes, since), `delta since ${JSON.stringify(since)}: the writes above the vector`);
    }

    // A fresh replica that applies the update holds the same writes and vector.
    const copy = await newNode();
    copy.getStateManager().applyUpdate(state.encodeStateAsUpdate());
    const copied = emitted(copy.getStateManager(), 'a copy');
    sameWrites(copied.writes, writes, 'the copy holds the same writes');
    assert.deepEqual(copied.vector, vector, "the copy's vector");
    assertHolds(copy.getStateManager(), mergeWrites(writes), 'a copy');
  });

  it('replicas exchanging updates converge on what the merge rule picks from their decoded writes', async () => {
    const nodes = [await newNode(), await newNode(), await newNode()];
    const [a, b, c] = nodes.map((n) => n.getStateManager());
    const names = new Map([
      [a, 'A'],
      [b, 'B'],
      [c, 'C'],
    ]);
    // Concurrent writes: nobody has seen anybody's.
    a.write('shared', 'A');
    a.write('ab', { from: 'A' });
    a.write('doomed', 1);
    a.batchWrite({ 'a/ключ': 'A', 'a/🔑': [1, 2] });
    a.flush();
    b.write('shared', 'B');
    b.write('ab', { from: 'B' });
    b.batchWrite({ 'b/1': 1, 'b/2': 2, 'b/3': 3 });
    b.flush();
    await sleep(2);
    c.write('shared', 'C');
    c.delete('doomed'); // a delete of a key C never had, concurrent with A's write
    c.write('c/é', 'C');
    c.flush();
    await sleep(2);
    b.delete('b/2');
    a.write('shared', 'A again');
    a.flush();
    b.flush();

    const before = new Map([a, b, c].map((s) => [s, emitted(s, `${names.get(s)} before`).writes]));
    const expected = mergeWrites([...before.values()].flat());
    assert.equal(expected.size, 9, 'the writes cover the 9 keys');

    const syncAll = (label) => {
      for (const to of [a, b, c]) {
        for (const from of [a, b, c]) if (to !== from) pull(to, from, `${label}: ${names.get(to)} <- ${names.get(from)}`);
      }
    };
    syncAll('first sync');
    for (const s of [a, b, c]) {
      assertHolds(s, expected, `${names.get(s)} after the sync`);
      sameWrites(emitted(s, `${names.get(s)} after`).writes, [...expected.values()], `${names.get(s)} holds exactly the winners`);
    }

    // Applying everything again changes nothing (the rule is a join).
    const settled = new Map([a, b, c].map((s) => [s, hex(s.encodeStateAsUpdate())]));
    for (const to of [a, b, c]) for (const from of [a, b, c]) to.applyUpdate(from.encodeStateAsUpdate());
    for (const s of [a, b, c]) assert.equal(hex(s.encodeStateAsUpdate()), settled.get(s), `${names.get(s)}: re-applying changes nothing`);

    // A write made after seeing the others is stamped above every one of them.
    b.write('shared', 'B after seeing all');
    b.delete('a/ключ');
    b.flush();
    const fromB = emitted(b, 'B later').writes.filter((w) => w.key === 'shared' || w.key === 'a/ключ');
    const highest = [...expected.values()].reduce((x, y) => (stampGreater(x, y) ? x : y));
    for (const w of fromB) assert.ok(later(w, highest), `B's '${w.key}' is stamped above every write it had seen`);
    const expected2 = mergeWrites([...expected.values(), ...fromB]);
    assert.equal(expected2.get('shared').value, JSON.stringify('B after seeing all'));
    assert.equal(expected2.get('a/ключ').value, null);
    syncAll('second sync');
    for (const s of [a, b, c]) {
      assertHolds(s, expected2, `${names.get(s)} after the second sync`);
      sameWrites(emitted(s, `${names.get(s)} after the second sync`).writes, [...expected2.values()], `${names.get(s)} holds exactly the new winners`);
    }
  });

  it('applies Update and SyncResponse frames built by the independent encoder', async () => {
    const node = await newNode();
    const state = node.getStateManager();
    const T = Date.now() - 10_000;
    const writes = [
      { key: 'spaced', value: '{ "a" : [1, 2] }', wall: T, logical: 0, replicaId: 11, seq: 1 },
      { key: 'ключ', value: '"значение"', wall: T, logical: 0, replicaId: 11, seq: 2 },
      { key: '🔑', value: '"\\ud83d\\ude80 escaped, é raw"', wall: T + 5, logical: 3, replicaId: 12, seq: 1 },
      { key: 'gone', value: null, wall: T + 6, logical: 0, replicaId: 12, seq: 2 },
      { key: 'earlier wall', value: '-0.5e3', wall: T - 100, logical: 7, replicaId: 12, seq: 4 }, // a negative wall delta (zigzag)
      { key: 'k'.repeat(300), value: JSON.stringify('x'.repeat(300)), wall: T, logical: 0, replicaId: 11, seq: 9 },
      { key: 'largest replica id', value: 'true', wall: T, logical: 2 ** 32 - 1, replicaId: 2 ** 53 - 1, seq: 2 ** 40 },
      // U+FEFF at the start of a key or string is text like any other: decoders must not drop it as a byte order mark.
      { key: '\ufeffkey', value: '"\ufeffvalue"', wall: T, logical: 0, replicaId: 11, seq: 10 },
    ];
    state.applyUpdate(encodeUpdateFrame(writes));
    assertHolds(state, mergeWrites(writes), 'after the Update');
    // It holds the writes as sent: stamps, seqs and the values' bytes (the
    // merge rule compares them, so a replica must not reformat them).
    sameWrites(emitted(state, 'after the Update').writes, writes, 'the writes it holds');

    // A SyncResponse whose vector (sent short) says writer 21 has written up
    // to seq 9 and writer 22 up to 3, carrying two of 21's writes.
    const synced = [
      { key: 'from 21', value: '[21]', wall: T, logical: 0, replicaId: 21, seq: 2 },
      { key: 'ключ', value: '"newer"', wall: T + 1, logical: 0, replicaId: 21, seq: 4 },
    ];
    const sent = [
      { replicaId: 21, seq: 9 },
      { replicaId: 22, seq: 3 },
    ];
    state.applyUpdate(encodeSyncResponseFrame(shortVector(sent, synced), synced));
    const all = mergeWrites([...writes, ...synced]);
    assertHolds(state, all, 'after the SyncResponse');
    const after = emitted(state, 'after the SyncResponse');
    sameWrites(after.writes, [...all.values()], 'the writes it holds after the SyncResponse');
    // PROTOCOL.md: a SyncResponse advances the vector to the sender's, but
    // never past the highest seq the receiver has itself seen of each writer.
    const entry = (id) => after.vector.find((v) => v.replicaId === id)?.seq;
    assert.equal(entry(21), 4, "writer 21: the highest seq seen (4), not the sender's 9");
    assert.equal(entry(22), undefined, 'writer 22: nothing seen, no entry');

    // Applying the same frames again changes nothing.
    const settled = hex(state.encodeStateAsUpdate());
    state.applyUpdate(encodeUpdateFrame(writes));
    state.applyUpdate(encodeSyncResponseFrame(shortVector(sent, synced), synced));
    assert.equal(hex(state.encodeStateAsUpdate()), settled);
  });

  it('reads a peer’s primitive values exactly as JSON.parse reads their text: signs, exponents, whitespace, escapes', async () => {
    const node = await newNode();
    const state = node.getStateManager();
    const T = Date.now() - 10_000;
    const texts = ['-0', '0', '0.1', '-1.5e-7', '1E+2', '12345678901234567890', '9007199254740993', ' 7', '7 ', 'true ', '\tfalse', 'null\n', '"a\\u0041\\n"', ' "s"'];
    const writes = texts.map((value, i) => ({ key: `p${i}`, value, wall: T, logical: 0, replicaId: 31, seq: i + 1 }));
    state.applyUpdate(encodeUpdateFrame(writes));
    for (const { key, value } of writes) {
      const read = state.read(key);
      assert.ok(Object.is(read, JSON.parse(value)), `read('${key}') of ${JSON.stringify(value)} is ${String(read)}, JSON.parse gives ${String(JSON.parse(value))}`);
    }
  });

  it('resolves concurrent writes in PROTOCOL.md order: stamp (wall, logical, replicaId), then seq, then a value above a delete, then the bytes', async () => {
    const T = Date.now() - 10_000;
    const w = (wall, logical, replicaId, seq, value) => ({ wall: T + wall, logical, replicaId, seq, value });
    // [what decides, the winner, the loser]: each loser is greater in every
    // field after the one that decides.
    const cases = [
      ['wall', w(1, 0, 1, 1, '"a"'), w(0, 9, 99, 99, '"z"')],
      ['logical', w(0, 2, 1, 1, '"a"'), w(0, 1, 99, 99, '"z"')],
      ['replicaId', w(0, 1, 99, 1, '"a"'), w(0, 1, 98, 99, '"z"')],
      ['seq (equal stamps, as in one transaction)', w(0, 1, 5, 3, '"a"'), w(0, 1, 5, 2, '"z"')],
      ['a value above a delete (equal stamps and seq)', w(0, 1, 5, 3, '"a"'), w(0, 1, 5, 3, null)],
      ['a delete with the greater stamp', w(0, 2, 5, 1, null), w(0, 1, 5, 3, '"z"')],
      ['the value bytes (equal stamps and seq)', w(0, 1, 5, 3, '"z"'), w(0, 1, 5, 3, '"a"')],
      ['the value bytes, not the numbers', w(0, 1, 5, 3, '2'), w(0, 1, 5, 3, '10')],
      ['the value bytes: a longer value that begins with the other', w(0, 1, 5, 3, '10'), w(0, 1, 5, 3, '1')],
      // U+1F600 is F0 9F 98 80 in UTF-8 and U+FF21 is EF BC A1, while in
      // UTF-16 U+FF21 is the greater (D83D < FF21): the rule compares UTF-8.
      ['the value bytes in UTF-8, not UTF-16', w(0, 1, 5, 3, '"😀"'), w(0, 1, 5, 3, '"\uFF21"')],
    ];
    const forward = (await newNode()).getStateManager(); // winner, then loser
    const backward = (await newNode()).getStateManager(); // loser, then winner
    const together = (await newNode()).getStateManager(); // both in one SyncResponse, loser first
    for (const [i, [what, winnerFields, loserFields]] of cases.entries()) {
      const key = `case ${i}`;
      const winner = { key, ...winnerFields };
      const loser = { key, ...loserFields };
      assert.ok(stampGreater(winner, loser) && !stampGreater(loser, winner), `${what}: the independent rule agrees with the table`);
      forward.applyUpdate(encodeUpdateFrame([winner]));
      forward.applyUpdate(encodeUpdateFrame([loser]));
      backward.applyUpdate(encodeUpdateFrame([loser]));
      backward.applyUpdate(encodeUpdateFrame([winner]));
      together.applyUpdate(encodeSyncResponseFrame(shortVector([], [loser, winner]), [loser, winner]));
      for (const [s, order] of [
        [forward, 'winner first'],
        [backward, 'loser first'],
        [together, 'one frame'],
      ]) {
        assertHeld(s, winner, `${what} (${order})`);
      }
    }
  });

  it('refuses frames that break PROTOCOL.md, as the independent decoder does, and changes nothing', async () => {
    const state = (await newNode()).getStateManager();
    const T = Date.now() - 10_000;
    const good = { key: 'k', value: '1', wall: T, logical: 0, replicaId: 3, seq: 1 };
    state.applyUpdate(encodeUpdateFrame([good]));
    const before = hex(state.encodeStateAsUpdate());
    const valid = encodeUpdateFrame([{ ...good, value: '2', seq: 2 }]);
    const patched = (i, byte) => Uint8Array.from(valid, (b, j) => (j === i ? byte : b));
    // One entry by hand: key, value length, value, wall delta, logical, seq delta.
    const entry = (key, value, seqDelta) => {
      const out = [...varuintBytes(Buffer.byteLength(key)), ...Buffer.from(key)];
      if (value === null) out.push(0);
      else out.push(...varuintBytes(Buffer.byteLength(value) + 1), ...Buffer.from(value));
      return [...out, ...varuintBytes(2 * T), 0, ...varuintBytes(seqDelta)];
    };
    const update = (body) => encodeFrame(FrameType.Update, body);
    const bad = [
      ['another magic byte', patched(0, 0xc4)],
      ['protocol version 1', patched(1, 0x01)],
      ['protocol version 3', patched(1, 0x03)],
      ['a body length one short', patched(3, valid[3] - 1)],
      ['a body length one long', patched(3, valid[3] + 1)],
      ['trailing bytes after the writes', update([...encodeWrites([{ ...good, seq: 2 }]), 0])],
      ['a truncated frame', valid.subarray(0, valid.length - 1)],
      ['an Update without writes', update([0])],
      ['an empty run', update([1, 3, 0])],
      ['a seq delta of 0', update([1, 3, 1, ...entry('k', '5', 0)])],
      ['an empty key', update([1, 3, 1, ...entry('', '5', 2)])],
      ['a value that is not JSON', update([1, 3, 1, ...entry('k', '{nope', 2)])],
      // JSON as JSON.parse reads it (PROTOCOL.md): nlohmann, the old check, let these two through.
      ['a value after a byte order mark', update([1, 3, 1, ...entry('k', '\ufeff5', 2)])],
      ['a value with a NUL after it', update([1, 3, 1, ...entry('k', '5\u0000garbage', 2)])],
      ['a value with a lone surrogate escape', update([1, 3, 1, ...entry('k', '"\\ud800"', 2)])],
      ['a value too large for a double', update([1, 3, 1, ...entry('k', '1e400', 2)])],
      ['a SyncRequest', encodeSyncRequestFrame([{ replicaId: 3, seq: 9 }])],
      // Its writer is the sender, and bytes handed to applyUpdate have none.
      ['an OwnUpdate', encodeOwnUpdateFrame([{ ...good, value: '2', seq: 2 }])],
    ];
    assert.doesNotThrow(() => decodeStateFrame(update([1, 3, 1, ...entry('k', '5', 2)])), 'the hand-built entry is valid when its fields are');
    for (const [what, bytes] of bad) {
      if (what !== 'a SyncRequest' && what !== 'an OwnUpdate') assert.throws(() => decodeStateFrame(bytes), `${what}: the independent decoder refuses it`);
      assert.throws(() => state.applyUpdate(bytes), /^Error: applyUpdate\(update\): /, `${what}: applyUpdate refuses it`);
      assert.equal(hex(state.encodeStateAsUpdate()), before, `${what}: nothing changed`);
    }
  });

  it('refuses writes stamped more than 60 s ahead: write by write in a SyncResponse, and counts them', async () => {
    const node = await newNode();
    const state = node.getStateManager();
    const now = Date.now();
    const near = { key: 'near', value: '1', wall: now + 30_000, logical: 0, replicaId: 8, seq: 1 };
    const far = { key: 'far', value: '1', wall: now + 120_000, logical: 0, replicaId: 8, seq: 2 };
    state.applyUpdate(encodeSyncResponseFrame(shortVector([], [near, far]), [near, far]));
    assert.equal(state.read('near'), 1, 'a write 30 s ahead is accepted');
    assert.equal(state.has('far'), false, 'a write 120 s ahead is refused');
    assert.equal(node.getStatus().state.futureWrites, 1);
    state.applyUpdate(encodeUpdateFrame([{ ...far, key: 'far too', seq: 3 }]));
    assert.equal(state.has('far too'), false, 'an Update of one such write is refused');
    assert.equal(node.getStatus().state.futureWrites, 2);
    // A write after seeing one 30 s ahead is stamped above it (the clock
    // adopts what it accepted).
    state.write('near', 2);
    const mine = emitted(state, 'after a write').writes.find((w) => w.key === 'near');
    assert.ok(later(mine, near), 'the local write is stamped above the write 30 s ahead');
  });

  it(
    'refuses an Update with one write stamped more than 60 s ahead whole (it is one transaction)',
    async () => {
      const node = await newNode();
      const state = node.getStateManager();
      const now = Date.now();
      state.applyUpdate(
        encodeUpdateFrame([
          { key: 'ok', value: '1', wall: now, logical: 0, replicaId: 9, seq: 1 },
          { key: 'far', value: '1', wall: now + 120_000, logical: 0, replicaId: 9, seq: 2 },
        ]),
      );
      assert.deepEqual([state.has('ok'), state.has('far')], [false, false]);
      assert.equal(node.getStatus().state.futureWrites, 1);
    },
  );
});
