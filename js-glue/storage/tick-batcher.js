// TickBatcher: how IndexedDbStore and LevelDbStore take appended records.
// Each record is copied and queued; the records queued in one tick are
// written together by one write(records) call on the next microtask (one
// IndexedDB transaction, one LevelDB batch). write returns a promise that
// settles once its batch is stored. A batch counts as stored once it and
// every batch before it are: a failed batch fails every later one too, and
// each failed batch logs the error.
export class TickBatcher {
  #write;
  #pending = [];
  #stored = Promise.resolve(); // settles when every record added so far is stored
  #scheduled = false;

  // write(records: Uint8Array[]): Promise
  constructor(write) {
    this.#write = write;
  }

  add(bytes) {
    this.#pending.push(bytes.slice());
    if (this.#scheduled) return;
    this.#scheduled = true;
    const previous = this.#stored;
    this.#stored = new Promise((resolve, reject) => {
      queueMicrotask(() => {
        this.#scheduled = false;
        const records = this.#pending;
        this.#pending = [];
        Promise.all([previous, this.#write(records)]).then(() => resolve(), reject);
      });
    });
    this.#stored.catch((error) => console.error('peercompute: storing state failed', error));
  }

  // Settles once every record added so far is stored (or its batch failed).
  whenStored() {
    return this.#stored.catch(() => undefined);
  }
}
