// A Node process with a node on a dataDir, for tests/js/leveldb-store.test.mjs,
// which kills it or opens the same dataDir beside it.
//
//   node leveldb-child.mjs write DATA_DIR ROOM   writes until killed: batch i
//     puts key k<i> (a 16 KiB value, so the log passes the kernel's 1 MiB
//     compaction threshold every ~60 batches) and counter = i, and prints
//     "stored <i>" once the batch's promise resolved
//   node leveldb-child.mjs hold DATA_DIR ROOM    opens the node, prints
//     "ready", and keeps the database open until killed
import { createNode } from '../../../dist/peercompute.js';

const [mode, dataDir, roomId] = process.argv.slice(2);
const node = await createNode({ roomId, dataDir, computeWorkers: 0 });
const state = node.getStateManager();

if (mode === 'write') {
  const filler = 'x'.repeat(16 * 1024);
  for (let i = 0; ; i++) {
    await state.batchWrite({ [`k${i}`]: `${i}:${filler}`, counter: i });
    process.stdout.write(`stored ${i}\n`);
  }
} else if (mode === 'hold') {
  process.stdout.write('ready\n');
  setInterval(() => {}, 60_000);
} else {
  throw new Error(`leveldb-child.mjs: unknown mode ${mode}`);
}
