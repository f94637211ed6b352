// KernelDriver: how the glue feeds the kernel. Here against a stand-in
// kernel that records what it was handed, so each input path's bytes and
// times can be checked exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KernelDriver } from '../../dist/kernel-driver.js';

// A kernel with an input buffer at byte 64 of a 1 MiB heap, and an empty
// output stream (no outputs, no timeout) unless `outputs` says otherwise.
function standIn() {
  const core = { HEAPU8: new Uint8Array(1 << 20) };
  const empty = new Uint8Array(8);
  new DataView(empty.buffer).setFloat64(0, -1, true);
  const kernel = {
    inputBuffer: () => 64,
    pollOutputs: () => empty,
  };
  return { core, kernel, driver: new KernelDriver(core, kernel) };
}

describe('KernelDriver.inputText', () => {
  it('hands the kernel exactly the UTF-8 of the text: ASCII and not, on both sides of the hand-copied length', () => {
    const { core, driver } = standIn();
    const texts = ['', 'a', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(257), `${'x'.repeat(255)}é`, 'é', '😀 and ascii', '\u007f\u0080', 'k'.repeat(5000)];
    for (const text of texts) {
      const got = driver.inputText(text, (k, size) => core.HEAPU8.slice(64, 64 + size));
      assert.deepEqual(got, new TextEncoder().encode(text), `${JSON.stringify(text.slice(0, 20))}… (${text.length} units)`);
    }
  });
});

describe('KernelDriver.input times', () => {
  // An output stream: no timeout, then Intern(1, 'peer-b') and PeerConnected(1).
  function peerConnectedStream() {
    const id = new TextEncoder().encode('peer-b');
    const bytes = new Uint8Array(8 + 1 + 4 + 4 + id.length + 1 + 4);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, -1, true);
    let at = 8;
    bytes[at++] = 0; // Intern
    view.setUint32(at, 1, true);
    view.setUint32(at + 4, id.length, true);
    bytes.set(id, at + 8);
    at += 8 + id.length;
    bytes[at++] = 9; // PeerConnected
    view.setUint32(at, 1, true);
    return bytes;
  }

  it('an input raised while outputs are handled carries the time of the input being drained; a later one reads the clock', async () => {
    const { kernel, driver } = standIn();
    const empty = kernel.pollOutputs();
    let pending = [peerConnectedStream()];
    kernel.pollOutputs = () => pending.shift() ?? empty;
    const times = [];
    driver.serve({
      'peer-connected': () => {
        // Busy for a while, as a handler may be; the reply still carries the drained input's time.
        const until = performance.now() + 3;
        while (performance.now() < until);
        driver.input((k, t) => times.push(['reply', t]));
      },
    });
    driver.input((k, t) => times.push(['first', t]));
    assert.deepEqual(times.map(([what]) => what), ['first', 'reply']);
    assert.equal(times[1][1], times[0][1], 'the reply carries the first input’s time');
    await new Promise((r) => setTimeout(r, 5));
    driver.input((k, t) => times.push(['later', t]));
    assert.ok(times[2][1] >= times[0][1] + 5, 'an input after the drain reads the clock');
  });
});
