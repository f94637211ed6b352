// A render another tab submitted, as this tab follows it from that tab's
// messages (tile-share.js): the tiles accepted so far, who computed each,
// and how many this tab did. It has what the canvas and the tables read of
// a TileRender (grid, counts, owners, done, byPeer, state, elapsedMs).
import { makePalette, tileGrid } from './mandelbrot-image.js';

export class RemoteRender {
  isRemote = true;
  state = 'running'; // then 'done', 'cancelled', 'failed' or 'abandoned' (its tab left)
  done = 0;
  byPeer = {};
  selfUnitsAt = null; // when the last tile this tab computed arrived
  endedAt = null;
  stats = null;

  // owner: the peer id of the tab that submitted it; info: a decoded start or tile message.
  constructor(owner, canvas, { render, side, maxIter, total }) {
    this.owner = owner;
    this.id = render;
    this.grid = tileGrid(canvas, side);
    this.total = total;
    this.maxIter = maxIter;
    this.palette = makePalette(maxIter);
    this.counts = new Array(total);
    this.owners = new Array(total).fill(null);
    this.startedAt = performance.now();
  }

  // Whether a decoded message (start, end or tile) is about this render.
  describes(owner, { render, side, maxIter, total }) {
    return owner === this.owner && render === this.id && side === this.grid.side && maxIter === this.maxIter && total === this.total;
  }

  get elapsedMs() {
    return (this.endedAt ?? performance.now()) - this.startedAt;
  }

  // Tiles this tab computed, as the submitting tab counted them.
  selfTiles(selfId) {
    return this.byPeer[selfId] ?? 0;
  }

  // A decoded tile message; returns false if it changes nothing.
  addTile({ index, done, peers, byPeer, counts }, selfId) {
    if (this.state !== 'running' || this.counts[index]) return false;
    this.counts[index] = counts;
    this.owners[index] = peers[0];
    this.done = Math.max(this.done, done);
    this.byPeer = byPeer;
    if (peers.includes(selfId)) this.selfUnitsAt = performance.now();
    return true;
  }

  end(state) {
    if (this.state !== 'running') return;
    this.state = state;
    this.endedAt = performance.now();
  }
}
