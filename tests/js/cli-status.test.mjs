// The keeper's status output (bin/status.js) in its three forms, written to
// a stand-in stdout: a terminal (a line redrawn in place, events above it),
// --json (a JSON object per line), and neither (events as plain lines only).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReporter, describeServer, formatBytes, summarize } from '../../bin/status.js';

function output(isTTY) {
  const out = { isTTY, columns: 200, text: '', write: (t) => (out.text += t) };
  return out;
}

const status = {
  network: { peerCount: 2, bytesIn: 1536, bytesOut: 3 * 1024 * 1024, signalingServer: { state: 'registered', reconnects: 1, lastError: null } },
  state: { keyCount: 42 },
  compute: { completed: 7 },
};
const url = 'ws://127.0.0.1:9000/peerjs';

describe('keeper status output', () => {
  it('reads peers, keys, bytes, units and the server from node.getStatus()', () => {
    assert.deepEqual(summarize(status), {
      peers: 2,
      keys: 42,
      bytesIn: 1536,
      bytesOut: 3 * 1024 * 1024,
      unitsDone: 7,
      server: { state: 'registered', reconnects: 1, lastError: null },
    });
    assert.deepEqual([formatBytes(0), formatBytes(1536), formatBytes(3 * 1024 * 1024)], ['0 B', '1.5 KB', '3.0 MB']);
    assert.equal(describeServer({ state: 'reconnecting', reconnects: 3, lastError: 'ERROR: bad key' }, url), `server ${url} unreachable, retrying with backoff (3 retries so far, last error ERROR: bad key)`);
  });

  it('on a terminal, redraws one line in place and prints events above it', () => {
    const out = output(true);
    const report = createReporter({ json: false, out });
    assert.equal(report.statusIntervalMs, 1000);
    report.status(summarize(status), url);
    assert.equal(out.text, `\r\x1b[2Kpeers 2 | keys 42 | in 1.5 KB | out 3.0 MB | units 7 | server ${url} connected`);
    out.text = '';
    report.event('peer-connected', { peerId: 'tab-1' });
    assert.match(out.text, /^\r\x1b\[2Kpeer tab-1 connected\npeers 2 \| keys 42/);
    out.text = '';
    report.close();
    assert.equal(out.text, '\n');
  });

  it('with --json, one JSON object per line; without a terminal, events only, the server once per change of phase', () => {
    const json = output(true);
    const report = createReporter({ json: true, out: json });
    report.event('stored', { version: 3, keys: 42 });
    report.status(summarize(status), url);
    const lines = json.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.event, l.keys]), [['stored', 42], ['status', 42]]);

    const plain = output(false);
    const quiet = createReporter({ json: false, out: plain });
    assert.equal(quiet.statusIntervalMs, 0);
    quiet.status(summarize(status), url);
    quiet.event('stored', { version: 3, keys: 42 });
    assert.equal(plain.text, '', 'no status, no stored lines');
    for (const reconnects of [0, 1, 2]) quiet.event('server', { url, state: 'reconnecting', reconnects, lastError: null });
    quiet.event('server', { url, state: 'registered', reconnects: 2, lastError: null });
    const printed = plain.text.trim().split('\n');
    assert.equal(printed.length, 2, plain.text);
    assert.match(printed[0], /unreachable, retrying with backoff/);
    assert.match(printed[1], /connected$/);
  });
});
