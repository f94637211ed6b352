// Which store keeps a node's state: IndexedDB in a browser; in Node.js, LevelDB
// under the dataDir option. Resolves to {store}, or to {error} saying why the
// node works in memory (the status shows it as persistenceError). Where the
// app gave dataDir and the disk store cannot open, it rejects instead: the
// app asked for its state on disk, and running without it would lose it.
import { runsInNodeJs } from '../environment.js';
import { IndexedDbStore } from './indexeddb-store.js';
import { LevelDbStore } from './leveldb-store.js';

export async function openStore(roomId, dataDir) {
  if (dataDir !== null) return { store: await LevelDbStore.open(roomId, dataDir) };
  if (runsInNodeJs()) {
    return { error: 'in Node.js the state is kept on disk only with the dataDir option (a directory for its LevelDB databases, through the package classic-level)' };
  }
  return IndexedDbStore.open(roomId);
}
