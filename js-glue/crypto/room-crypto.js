// The room's cryptography, with WebCrypto. The kernel never sees a password
// or a key: it asks the host to seal and unseal signals and to compute the
// proofs peers exchange on the data channel (see wasm/wire/PROTOCOL.md).
//
// A room has a tag that names it on a PeerJS server and on BroadcastChannel
// without spelling it out: the first 128 bits, hex, of
// SHA-256("peercompute/v2/room\0" + ("sealed" | "open") + "\0" + room). It
// depends on whether the room has a password, never on the password, so a
// tag seen on a server (which lists every id) is no way to test password
// guesses (a sealed signal is, at the cost of PBKDF2 for each guess). A node
// with a wrong password therefore meets the room's members on the server and
// on BroadcastChannel, but nothing it receives unseals and nothing it sends is
// accepted. Rooms with and without a password never share a tag.
//
// With a password, PBKDF2-SHA-256 (PBKDF2_ITERATIONS rounds, salted with the
// room) derives 512 bits: an AES-GCM key for signals and an HMAC-SHA-256 key
// for the proofs. Both keys are imported non-extractable; the derived bits are
// dropped as soon as they are imported.

// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA-256.
export const PBKDF2_ITERATIONS = 600_000;
const SEALED_PREFIX = 'pcs1.';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function requireSubtle() {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error('room crypto needs WebCrypto (crypto.subtle), which browsers offer only in secure contexts (https or localhost)');
  }
  return subtle;
}

// The proof a prover sends a verifier: binds both ids and both challenges,
// so it is good for this one connection only.
function proofMessage(proverId, verifierId, verifierChallenge, proverChallenge) {
  return concat(
    encoder.encode(`peercompute/v1/auth\0${proverId}\0${verifierId}\0`),
    verifierChallenge,
    proverChallenge,
  );
}

// The room's tag: it tells whether the room is sealed, and nothing of the password.
export async function roomTag(room, sealed) {
  const text = `peercompute/v2/room\0${sealed ? 'sealed' : 'open'}\0${room}`;
  const digest = new Uint8Array(await requireSubtle().digest('SHA-256', encoder.encode(text)));
  return hex(digest.subarray(0, 16));
}

export class RoomCrypto {
  #aes = null;
  #hmac = null;
  tag;

  static async create(room, password) {
    const subtle = requireSubtle();
    const rc = new RoomCrypto();
    const sealed = password !== null && password !== undefined;
    rc.tag = await roomTag(room, sealed);
    if (!sealed) return rc;
    const base = await subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
    const bits = new Uint8Array(
      await subtle.deriveBits(
        { name: 'PBKDF2', hash: 'SHA-256', salt: encoder.encode(`peercompute/v2/salt\0${room}`), iterations: PBKDF2_ITERATIONS },
        base,
        512,
      ),
    );
    rc.#aes = await subtle.importKey('raw', bits.subarray(0, 32), 'AES-GCM', false, ['encrypt', 'decrypt']);
    rc.#hmac = await subtle.importKey('raw', bits.subarray(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    bits.fill(0);
    return rc;
  }

  get sealed() {
    return this.#aes !== null;
  }

  async seal(text) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode('peercompute/v1/signal') }, this.#aes, encoder.encode(text)),
    );
    return SEALED_PREFIX + toBase64(concat(iv, ciphertext));
  }

  // The plaintext, or null when it is not sealed with this room's key.
  async unseal(sealed) {
    if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) return null;
    try {
      const bytes = fromBase64(sealed.slice(SEALED_PREFIX.length));
      if (bytes.length < 12 + 16) return null;
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: encoder.encode('peercompute/v1/signal') },
        this.#aes,
        bytes.subarray(12),
      );
      return decoder.decode(plain);
    } catch {
      return null;
    }
  }

  // {proof: ours for the peer, expected: the peer's for us}, as bytes.
  async proofs(ourId, theirId, ourChallenge, theirChallenge) {
    const sign = async (message) => new Uint8Array(await crypto.subtle.sign('HMAC', this.#hmac, message));
    const [proof, expected] = await Promise.all([
      sign(proofMessage(ourId, theirId, theirChallenge, ourChallenge)),
      sign(proofMessage(theirId, ourId, ourChallenge, theirChallenge)),
    ]);
    return { proof, expected };
  }
}
