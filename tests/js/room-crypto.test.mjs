// The room cryptography (WebCrypto, which Node offers too): tags, sealed
// signals and password proofs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { PBKDF2_ITERATIONS, RoomCrypto } from '../../dist/crypto/room-crypto.js';

const challenge = (fill) => new Uint8Array(16).fill(fill);

// The tag as PROTOCOL.md defines it, computed here independently of the glue.
const expectedTag = (room, sealed) =>
  createHash('sha256').update(`peercompute/v2/room\0${sealed ? 'sealed' : 'open'}\0${room}`).digest('hex').slice(0, 32);

describe('RoomCrypto', async () => {
  // Each derivation is PBKDF2_ITERATIONS rounds: run them side by side.
  const [open, right, again, wrong, otherRoom] = await Promise.all([
    RoomCrypto.create('room-a', null),
    RoomCrypto.create('room-a', 'hunter2'),
    RoomCrypto.create('room-a', 'hunter2'),
    RoomCrypto.create('room-a', 'hunter3'),
    RoomCrypto.create('room-b', 'hunter2'),
  ]);

  it('stretches the password with at least 600,000 PBKDF2 rounds (OWASP 2023)', () => {
    assert.ok(PBKDF2_ITERATIONS >= 600_000, `PBKDF2_ITERATIONS is ${PBKDF2_ITERATIONS}`);
  });

  it('gives a room a tag of 32 hex digits that depends on the room and on whether it has a password', async () => {
    for (const rc of [open, right, wrong, otherRoom]) assert.match(rc.tag, /^[0-9a-f]{32}$/);
    assert.equal((await RoomCrypto.create('room-a', null)).tag, open.tag);
    assert.equal(open.tag, expectedTag('room-a', false));
    assert.equal(right.tag, expectedTag('room-a', true));
    assert.equal(otherRoom.tag, expectedTag('room-b', true));
    assert.notEqual(open.tag, right.tag, 'a room with a password and one without never share a tag');
    assert.notEqual(otherRoom.tag, right.tag);
    assert.notEqual((await RoomCrypto.create('room-b', null)).tag, open.tag);
    assert.equal(open.sealed, false);
    assert.equal(right.sealed, true);
  });

  it('derives the tag from nothing of the password: two passwords for one room share it', () => {
    assert.equal(again.tag, right.tag);
    assert.equal(wrong.tag, right.tag);
  });

  it('seals a signal so that only the same room and password unseal it', async () => {
    const text = '{"v":1,"t":"announce","room":"room-a","from":"pc-1"}';
    const sealed = await right.seal(text);
    assert.match(sealed, /^pcs1\.[A-Za-z0-9+/=]+$/);
    assert.ok(!sealed.includes('room-a') && !sealed.includes('announce'));
    assert.notEqual(await right.seal(text), sealed, 'a fresh IV each time');
    assert.equal(await again.unseal(sealed), text);
    assert.equal(await wrong.unseal(sealed), null);
    assert.equal(await otherRoom.unseal(sealed), null);
  });

  it('a signal sealed with one password does not unseal with another, either way, though both share the tag', async () => {
    const text = '{"v":1,"t":"announce","room":"room-a","from":"pc-2"}';
    assert.equal(wrong.tag, right.tag);
    assert.equal(await right.unseal(await wrong.seal(text)), null);
    assert.equal(await wrong.unseal(await right.seal(text)), null);
    assert.equal(await wrong.unseal(await wrong.seal(text)), text, 'the control: its own signal unseals');
    assert.equal(await open.unseal(await right.seal(text)), null, 'a room without a password unseals nothing');
  });

  it('refuses tampered, truncated and foreign input without throwing', async () => {
    const sealed = await right.seal('{"x":1}');
    const flipped = sealed.slice(0, -6) + (sealed.at(-6) === 'A' ? 'B' : 'A') + sealed.slice(-5);
    for (const bad of [flipped, 'pcs1.', 'pcs1.!!!notbase64', sealed.slice(0, 20), '{"v":1}', '', 42, null]) {
      assert.equal(await right.unseal(bad), null, String(bad));
    }
  });

  it('makes proofs that the peer with the same password expects, and no other', async () => {
    const mine = await right.proofs('pc-a', 'pc-b', challenge(1), challenge(2));
    const theirs = await again.proofs('pc-b', 'pc-a', challenge(2), challenge(1));
    assert.deepEqual(mine.proof, theirs.expected);
    assert.deepEqual(theirs.proof, mine.expected);
    assert.notDeepEqual(mine.proof, mine.expected, 'a proof is bound to who proves');
    const liar = await wrong.proofs('pc-b', 'pc-a', challenge(2), challenge(1));
    assert.notDeepEqual(liar.proof, mine.expected);
    const replay = await again.proofs('pc-b', 'pc-a', challenge(3), challenge(1));
    assert.notDeepEqual(replay.proof, mine.expected, 'a proof is bound to the challenges');
  });
});
