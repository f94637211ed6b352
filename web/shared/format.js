// Text the demo pages show: escaping, numbers, sizes, durations and times.

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Everything that reaches innerHTML goes through here: peer ids, keys, values
// and message payloads come from other tabs and are untrusted.
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// undefined (a field a peer's message lacks) shows as "undefined".
export function jsonPreview(value, max = 300) {
  return truncate(String(JSON.stringify(value)), max);
}

// What the user typed, as JSON when it parses, else as the text itself.
export function parseJsonOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

// '—' for a value the library may leave out (optional or null fields).
export function orDash(value, format = String) {
  return value === undefined || value === null ? '—' : format(value);
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function milliseconds(ms) {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

export function seconds(ms) {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${pad(m % 60)}m`;
}

export function clockTime(date = new Date()) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

// The library's clock: its times are ms since the epoch, measured this way.
export function epochNow() {
  return performance.timeOrigin + performance.now();
}

export function since(epochMs) {
  return duration(epochNow() - epochMs);
}

export function ago(epochMs) {
  return epochMs === null ? '—' : `${since(epochMs)} ago`;
}

export function shortId(id) {
  return id.length > 12 ? `${id.slice(0, 3)}…${id.slice(-6)}` : id;
}
