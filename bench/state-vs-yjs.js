// Page side of bench/state-vs-yjs.mjs: PeerCompute's replicated state against
// Yjs (Y.Map) in the same page. Everything is driven from the runner through
// page.evaluate(() => window.bench.<fn>(...)); nothing runs on load except
// importing both libraries. The runner reloads the page between measurements,
// so each one starts from a fresh heap (the library has no way to free a
// kernel's memory short of that).
//
// 'yjs' and 'lib0/...' resolve through an import map that the runner writes
// into the page (it serves them from node_modules; scripts/serve.mjs does not).
// The runner also serves the independent PROTOCOL.md codec of the state frames
// from tests/js/conformance/, where the conformance test that checks the
// library against it lives.
//
// The functions are in bench/state/page/, one module a measured part.
import { VERSION } from '/dist/peercompute.js';
import { b3Ours, b3Yjs } from './state/page/b3.js';
import { longTasks, setStatus } from './state/page/common.js';
import { rawArm, rawClose, rawListen, rawOffer, rawSend, rawWait, rawWaitOpen } from './state/page/raw-channel.js';
import { syncOursLocal, syncYjs } from './state/page/sync-local.js';
import { startedNode, stopNode, syncPrepare, syncRun, syncSeed, waitConnected } from './state/page/two-tabs.js';
import { writeRead } from './state/page/write-read.js';

window.bench = {
  ready: true,
  version: VERSION,
  writeRead,
  b3Yjs,
  b3Ours,
  startedNode,
  waitConnected,
  stopNode,
  syncSeed,
  syncPrepare,
  syncRun,
  syncYjs,
  syncOursLocal,
  longTasks,
  rawListen,
  rawOffer,
  rawWaitOpen,
  rawArm,
  rawSend,
  rawWait,
  rawClose,
};
setStatus(`ready: PeerCompute ${VERSION}`);
