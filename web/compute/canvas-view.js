// What the canvas shows: the render session.shown picks (this tab's own
// while it runs, else a peer's it is helping with, else the latest), drawn
// tile by tile as they arrive and redrawn whole when the choice changes or
// the tint toggle flips. Tinting is a view: the counts are never touched.
import { byId } from '../shared/dom.js';
import { drawPending, drawTile, tileGrid } from './mandelbrot-image.js';

export function createCanvasView(canvas, session) {
  const ctx = canvas.getContext('2d');
  const tinted = () => byId('tintToggle').checked;
  let drawn = null; // the render on the canvas now

  function redraw() {
    const r = session.shown;
    drawn = r;
    if (!r) {
      drawPending(ctx, tileGrid(canvas, 8));
      return;
    }
    drawPending(ctx, r.grid);
    for (let i = 0; i < r.total; i++) drawTile(ctx, r, i, tinted());
  }

  // A tile of render r arrived.
  function tile(r, index) {
    if (session.shown !== r) return;
    if (drawn !== r) redraw();
    else drawTile(ctx, r, index, tinted());
  }

  // Redraws if the render to show is no longer the one drawn.
  function sync() {
    if (session.shown !== drawn) redraw();
  }

  byId('tintToggle').addEventListener('change', redraw);
  redraw();
  return { tile, sync };
}
