// The Mandelbrot image: the tiles' inputs, the palette, drawing tiles of
// escape counts on the canvas, and the hash of a whole image.
import { cssVar } from '../shared/dom.js';
import { peerRgb } from './peer-colour.js';

// The part of the complex plane the canvas shows: the whole set, 4:3.
const VIEW = { x0: -2.5, y0: -1.3125, width: 3.5, height: 2.625 };
const TINT_ALPHA = 0.38; // how much of the peer colour a tinted pixel takes

// A grid of side × side tiles over the canvas.
export function tileGrid(canvas, side) {
  return { side, total: side * side, tileW: canvas.width / side, tileH: canvas.height / side };
}

// Tiles are numbered row by row.
function tileOrigin(grid, index) {
  return { x: (index % grid.side) * grid.tileW, y: Math.floor(index / grid.side) * grid.tileH };
}

// One input of the built-in 'mandelbrot' task per tile.
export function tileInputs(canvas, grid, maxIter) {
  const dx = VIEW.width / canvas.width;
  const dy = VIEW.height / canvas.height;
  const inputs = [];
  for (let index = 0; index < grid.total; index++) {
    const { x, y } = tileOrigin(grid, index);
    inputs.push({ x0: VIEW.x0 + x * dx, y0: VIEW.y0 + y * dy, dx, dy, width: grid.tileW, height: grid.tileH, maxIter });
  }
  return inputs;
}

// A smooth gradient (deep blue → white → orange → near black), walked on a
// log scale of the escape count; inside the set is black.
const GRADIENT = [
  [0, [0, 7, 100]],
  [0.16, [32, 107, 203]],
  [0.42, [237, 255, 255]],
  [0.6425, [255, 170, 0]],
  [0.8575, [20, 2, 30]],
];

function gradientAt(t) {
  for (let i = 1; i < GRADIENT.length; i++) {
    const [p1, c1] = GRADIENT[i];
    if (t <= p1) {
      const [p0, c0] = GRADIENT[i - 1];
      const u = (t - p0) / (p1 - p0);
      return [0, 1, 2].map((c) => Math.round(c0[c] + (c1[c] - c0[c]) * u));
    }
  }
  return GRADIENT[GRADIENT.length - 1][1];
}

// One RGB triple per escape count 0..maxIter, made once per render.
export function makePalette(maxIter) {
  const lut = new Uint8Array((maxIter + 1) * 3); // zero-filled: maxIter (inside the set) is black
  const scale = Math.log(maxIter + 1);
  for (let n = 0; n < maxIter; n++) {
    const [r, g, b] = gradientAt((Math.log(n + 1) / scale) * 0.8575);
    lut[n * 3] = r;
    lut[n * 3 + 1] = g;
    lut[n * 3 + 2] = b;
  }
  return lut;
}

// The empty grid a render starts from.
export function drawPending(ctx, grid) {
  const { width, height } = ctx.canvas;
  ctx.fillStyle = cssVar('--surface-2');
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = cssVar('--border');
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 1; i < grid.side; i++) {
    ctx.moveTo(i * grid.tileW + 0.5, 0);
    ctx.lineTo(i * grid.tileW + 0.5, height);
    ctx.moveTo(0, i * grid.tileH + 0.5);
    ctx.lineTo(width, i * grid.tileH + 0.5);
  }
  ctx.stroke();
}

// render: a TileRender; tinted: blend in the colour of the peer that computed the tile.
export function drawTile(ctx, render, index, tinted) {
  const counts = render.counts[index];
  if (!counts) return; // not computed yet
  const { grid, palette, maxIter } = render;
  const { tileW, tileH } = grid;
  const image = ctx.createImageData(tileW, tileH);
  const px = image.data;
  const tint = tinted ? peerRgb(render.owners[index]) : null;
  const keep = 1 - TINT_ALPHA;
  for (let j = 0; j < tileH; j++) {
    for (let i = 0; i < tileW; i++) {
      const k = j * tileW + i;
      const n = Math.min(counts[k], maxIter) * 3;
      let red = palette[n];
      let green = palette[n + 1];
      let blue = palette[n + 2];
      if (tint) {
        red = red * keep + tint[0] * TINT_ALPHA;
        green = green * keep + tint[1] * TINT_ALPHA;
        blue = blue * keep + tint[2] * TINT_ALPHA;
        // A darker seam on the right and bottom edges outlines each tile.
        if (i === tileW - 1 || j === tileH - 1) {
          red *= 0.6;
          green *= 0.6;
          blue *= 0.6;
        }
      }
      const o = k * 4;
      px[o] = red;
      px[o + 1] = green;
      px[o + 2] = blue;
      px[o + 3] = 255;
    }
  }
  const { x, y } = tileOrigin(grid, index);
  ctx.putImageData(image, x, y);
}

// FNV-1a over every escape count, tile after tile, each as 4 little-endian
// bytes: equal hashes mean the same raw image, whoever computed it.
export function hashCounts(outputs) {
  let h = 0x811c9dc5;
  for (const counts of outputs) {
    for (let k = 0; k < counts.length; k++) {
      let v = counts[k];
      for (let b = 0; b < 4; b++) {
        h ^= v & 0xff;
        h = Math.imul(h, 0x01000193);
        v >>>= 8;
      }
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
