// One render: the 'mandelbrot' job of its tiles and what has arrived so far.
import { makePalette, tileInputs } from './mandelbrot-image.js';

export class TileRender {
  state = 'running'; // then 'done', 'cancelled' or 'failed'
  done = 0;
  byPeer = {}; // peerId -> tiles accepted from it
  selfUnitsAt = null; // when this tab last finished one of the tiles
  endedAt = null;
  stats = null;
  #refusal = null; // a tile this page refused

  // Throws, and no render exists, if submitJob refuses the job.
  constructor(compute, canvas, grid, { maxIter, redundancy }) {
    this.grid = grid;
    this.total = grid.total;
    this.maxIter = maxIter;
    this.palette = makePalette(maxIter);
    this.counts = new Array(grid.total);
    this.owners = new Array(grid.total).fill(null);
    this.tilePeers = new Array(grid.total); // every tab whose result for the tile was accepted
    this.startedAt = performance.now();
    this.job = compute.submitJob('mandelbrot', tileInputs(canvas, grid, maxIter), { redundancy });
    this.id = String(this.job.id);
  }

  get elapsedMs() {
    return (this.endedAt ?? performance.now()) - this.startedAt;
  }

  // onTile(index) runs for each tile accepted; selfId is this tab's node id.
  onTile(selfId, onTile) {
    this.job.on('progress', ({ index, peerId, peers, output, done, byPeer }) => {
      if (this.state !== 'running') return;
      // The library does not check a peer's result against the task, and a
      // tile of the wrong size would draw garbage: stop the render instead.
      const pixels = this.grid.tileW * this.grid.tileH;
      if (!(output instanceof Uint32Array) || output.length !== pixels) {
        this.#refusal ??= new Error(`tile ${index} from ${peerId}: expected ${pixels} escape counts, got ${output?.constructor?.name ?? typeof output}${output?.length === undefined ? '' : ` of ${output.length}`}`);
        setTimeout(() => this.job.cancel(), 0); // not from inside the job's own event
        return;
      }
      this.counts[index] = output;
      this.owners[index] = peerId;
      this.tilePeers[index] = peers;
      this.done = done;
      this.byPeer = byPeer;
      if (peers.includes(selfId)) this.selfUnitsAt = performance.now();
      onTile(index);
    });
  }

  cancel() {
    if (this.state === 'running') this.job.cancel();
  }

  // Resolves to the outputs; rejects with why the render failed, or an AbortError when cancelled.
  async outcome() {
    try {
      const outputs = await this.job.result;
      if (this.#refusal) throw this.#refusal;
      this.#end('done');
      return outputs;
    } catch (err) {
      // A refused tile cancels the job: report the refusal, not the cancel.
      const failure = this.#refusal ?? err;
      this.#end(failure.name === 'AbortError' ? 'cancelled' : 'failed');
      throw failure;
    }
  }

  #end(state) {
    this.endedAt = performance.now();
    this.stats = this.job.stats;
    this.state = state;
  }
}
