// Draws this tab's and its peers' positions on #positionsCanvas.
import { byId, cssVar } from '../shared/dom.js';

const INSET = 10;
const DOT_RADIUS = 5;

// own: this tab's {x, y}, or null when not broadcasting; streams: peerId -> {x, y, active}.
export function drawPositions(own, streams) {
  const canvas = byId('positionsCanvas');
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (!width || !height) return; // hidden
  if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, width, height);

  const inset = INSET * ratio;
  const font = `${11 * ratio}px ${cssVar('--mono')}`;
  const labelColour = cssVar('--muted');
  const dot = (x, y, fill, label, alpha = 1) => {
    const px = inset + x * (width - 2 * inset);
    const py = inset + y * (height - 2 * inset);
    ctx.globalAlpha = alpha;
    ctx.fillStyle = fill;
    ctx.beginPath();
    ctx.arc(px, py, DOT_RADIUS * ratio, 0, 2 * Math.PI);
    ctx.fill();
    ctx.font = font;
    ctx.fillStyle = labelColour;
    ctx.fillText(label, px + 8 * ratio, py + 4 * ratio);
    ctx.globalAlpha = 1;
  };
  const peerColour = cssVar('--ok');
  for (const [peerId, stream] of streams) dot(stream.x, stream.y, peerColour, peerId.slice(-6), stream.active ? 1 : 0.35);
  if (own) dot(own.x, own.y, cssVar('--accent'), 'you');
}
