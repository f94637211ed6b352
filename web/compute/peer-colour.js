// A peer's colour, derived from its id alone so that every tab agrees on it.

// FNV-1a over a string's UTF-16 code units.
function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function peerHue(id) {
  return hashString(id) % 360;
}

export function peerCss(id) {
  return `hsl(${peerHue(id)} 80% 55%)`;
}

function hslToRgb(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

const rgbCache = new Map();

// The colour as [r, g, b], for tinting pixels.
export function peerRgb(id) {
  let rgb = rgbCache.get(id);
  if (!rgb) {
    rgb = hslToRgb(peerHue(id), 0.8, 0.55);
    rgbCache.set(id, rgb);
  }
  return rgb;
}
