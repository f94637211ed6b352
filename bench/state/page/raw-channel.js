// The state bench's page (bench/state-vs-yjs.js), section 3, the transport
// floor; its runner side is bench/state/sync.mjs.
import { relayRawSignals } from '../../support/raw-signaling.js';
import { clock, withTimeout } from './common.js';

// ---- transport floor: the same bytes over a bare RTCDataChannel -----------------
// A raw pair between the two tabs (one ordered channel, no ICE servers, like
// the library's), signalled over a BroadcastChannel of its own. The sending
// tab sends `total` bytes in messages of `chunk` bytes at once, as the kernel
// does with a fragmented frame; the other tab notes when the last byte is in.

let raw = null;

function rawEntry(name, role) {
  rawClose();
  const pc = new RTCPeerConnection({ iceServers: [] });
  const bc = new BroadcastChannel(name);
  const entry = { pc, bc, channel: null, received: 0, expect: Infinity, doneAt: null, wake: null };
  entry.opened = new Promise((resolve, reject) => {
    entry.resolveOpen = resolve;
    entry.fail = reject;
  });
  entry.opened.catch(() => {});
  relayRawSignals(bc, role, pc, (error) => entry.fail(error));
  raw = entry;
  return entry;
}

function rawAttach(entry, channel) {
  entry.channel = channel;
  channel.binaryType = 'arraybuffer';
  channel.onopen = () => entry.resolveOpen(clock());
  channel.onmessage = (event) => {
    entry.received += event.data.byteLength ?? event.data.length;
    if (entry.received >= entry.expect && entry.doneAt === null) {
      entry.doneAt = clock();
      entry.wake?.();
    }
  };
}

export function rawListen(name) {
  const entry = rawEntry(name, 'answer');
  entry.pc.ondatachannel = (event) => rawAttach(entry, event.channel);
  return true;
}

export async function rawOffer(name, timeoutMs = 15000) {
  const entry = rawEntry(name, 'offer');
  rawAttach(entry, entry.pc.createDataChannel('bench-raw', { ordered: true }));
  await entry.pc.setLocalDescription(await entry.pc.createOffer());
  entry.bc.postMessage({ from: 'offer', sdp: entry.pc.localDescription.toJSON() });
  return withTimeout(entry.opened, timeoutMs, 'raw data channel open (offering tab)');
}

export async function rawWaitOpen(timeoutMs = 15000) {
  return withTimeout(raw.opened, timeoutMs, 'raw data channel open (answering tab)');
}

export function rawArm(total) {
  raw.received = 0;
  raw.expect = total;
  raw.doneAt = null;
  return true;
}

export function rawSend(total, chunk) {
  const t0 = clock();
  const piece = new Uint8Array(chunk);
  for (let sent = 0; sent < total; sent += chunk) raw.channel.send(sent + chunk <= total ? piece : piece.subarray(0, total - sent));
  return t0;
}

export async function rawWait(timeoutMs = 60000) {
  if (raw.doneAt === null) await withTimeout(new Promise((resolve) => (raw.wake = resolve)), timeoutMs, 'raw transfer');
  return raw.doneAt;
}

export function rawClose() {
  if (!raw) return;
  raw.bc.close();
  raw.channel?.close();
  raw.pc.close();
  raw = null;
}
