// What the keeper shows while it runs, in one of three forms:
//   - on a terminal, a status line redrawn in place (peers, keys, bytes in and
//     out, units done, the signaling server), with events printed above it;
//   - with --json, one JSON object per line: each event as it happens, and a
//     "status" line every few seconds, for a log collector or a test;
//   - otherwise (stdout a file, a pipe, the journal) the events only, as
//     plain lines: no redraws, nothing periodic.
// Errors go to stderr in every form.

// The numbers shown, from node.getStatus() (NodeStatus in peercompute.d.ts).
export function summarize(status) {
  const server = status.network.signalingServer;
  return {
    peers: status.network.peerCount,
    keys: status.state.keyCount,
    bytesIn: status.network.bytesIn,
    bytesOut: status.network.bytesOut,
    unitsDone: status.compute.completed,
    server: server && { state: server.state, reconnects: server.reconnects, lastError: server.lastError },
  };
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// How the signaling server is doing, in words.
export function describeServer(server, url) {
  if (!server) return 'no server';
  if (server.state === 'registered') return `server ${url} connected`;
  const error = server.lastError ? `, last error ${server.lastError}` : '';
  if (server.state === 'reconnecting' || server.reconnects > 0) {
    return `server ${url} unreachable, retrying with backoff (${server.reconnects} retries so far${error})`;
  }
  return `server ${url} connecting${error}`;
}

export function formatStatusLine(summary, url) {
  return [
    `peers ${summary.peers}`,
    `keys ${summary.keys}`,
    `in ${formatBytes(summary.bytesIn)}`,
    `out ${formatBytes(summary.bytesOut)}`,
    `units ${summary.unitsDone}`,
    describeServer(summary.server, url),
  ].join(' | ');
}

// Events in plain words, for the terminal and the plain log.
function describeEvent(name, f) {
  switch (name) {
    case 'ready':
      return `keeping room ${JSON.stringify(f.roomId)} as ${f.nodeId}: ${f.keys} keys restored from ${f.dataDir}, ${f.workers} compute workers, server ${f.server}`;
    case 'server':
      return describeServer(f, f.url);
    case 'peer-connected':
      return `peer ${f.peerId} connected`;
    case 'peer-disconnected':
      return `peer ${f.peerId} left (${f.reason})`;
    case 'stopping':
      return `${f.signal}: leaving the room and storing the state`;
    case 'stopped':
      return `stopped: ${f.keys} keys stored in ${f.dataDir}`;
    default:
      return null; // 'stored' and the rest: in --json only
  }
}

export function createReporter({ json, out = process.stdout }) {
  const tty = !json && out.isTTY === true;
  let line = ''; // the status line on screen (terminal only)
  let serverPhase = ''; // in text, the server is reported as it comes and goes, not at each retry
  const write = (text) => out.write(text);
  return {
    // An event: a JSON line, or a line of text (above the status line).
    event(name, fields = {}) {
      if (json) {
        write(`${JSON.stringify({ event: name, time: new Date().toISOString(), ...fields })}\n`);
        return;
      }
      if (name === 'server') {
        const phase = fields.state === 'registered' ? 'up' : fields.state === 'reconnecting' || fields.reconnects > 0 ? 'down' : 'connecting';
        if (phase === serverPhase) return;
        serverPhase = phase;
      }
      const text = describeEvent(name, fields);
      if (text === null) return;
      if (tty) write(`\r\x1b[2K${text}\n${line}`);
      else write(`${new Date().toISOString()} ${text}\n`);
    },
    // The live numbers: redrawn on a terminal, a JSON line with --json.
    status(summary, url) {
      if (json) {
        write(`${JSON.stringify({ event: 'status', time: new Date().toISOString(), ...summary })}\n`);
      } else if (tty) {
        line = formatStatusLine(summary, url).slice(0, Math.max(20, (out.columns || 120) - 1));
        write(`\r\x1b[2K${line}`);
      }
    },
    // Leaves the terminal on a fresh line.
    close() {
      if (tty && line) write('\n');
      line = '';
    },
    // How often status() is worth calling, in ms (never without a terminal or --json).
    statusIntervalMs: json ? 5000 : tty ? 1000 : 0,
  };
}
