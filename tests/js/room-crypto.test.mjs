// The room cryptography (WebCrypto, which Node offers too): tags, sealed
// signals and password proofs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RoomCrypto } from '../../dist/crypto/room-crypto.js';

const challenge = (fill) => new Uint8Array(16).fill(fill);

describe('RoomCrypto', async () => {
  const open = await RoomCrypto.create('room-a', null);
  const right = await RoomCrypto.create('room-a', 'hunter2');
  const again = await RoomCrypto.create('room-a', 'hunter2');
  const wrong = await RoomCrypto.create('room-a', 'hunter3');
  const otherRoom = await RoomCrypto.create('room-b', 'hunter2');

  it('gives a room a tag of 32 hex digits that depends on the room and the password', async () => {
    for (const rc of [open, right, wrong, otherRoom]) assert.match(rc.tag, /^[0-9a-f]{32}$/);
    assert.equal((await RoomCrypto.create('room-a', null)).tag, open.tag);
    assert.equal(again.tag, right.tag);
    assert.equal(new Set([open.tag, right.tag, wrong.tag, otherRoom.tag, (await RoomCrypto.create('room-b', null)).tag]).size, 5);
    assert.equal(open.sealed, false);
    assert.equal(right.sealed, true);
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
