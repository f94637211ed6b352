// How the benches print figures. A figure that is not a finite number prints
// as 'n/a'.
import { median } from './statistics.mjs';

const finite = (format) => (v, ...rest) => (Number.isFinite(v) ? format(v, ...rest) : 'n/a');

export const ms = finite((v, digits = 3) => `${v.toFixed(digits)} ms`);
// Two decimals below 10 ms, one above (the state bench's table).
export const msShort = finite((v) => `${v.toFixed(v < 10 ? 2 : 1)} ms`);
// Milliseconds printed as seconds.
export const sec = finite((msValue) => `${(msValue / 1000).toFixed(3)} s`);
export const us = finite((v) => `${v.toFixed(1)} µs`);
// 10^6 bytes per second.
export const mbps = finite((v) => `${v.toFixed(1)} MB/s`);
export const bytes = finite((v) => `${Math.round(v).toLocaleString('en-US')} B`);
export const kib = (n) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);
export const ratio = finite((v, digits = 2) => v.toFixed(digits));

// '1.43, 1.37, 1.32'
export const ratioList = (values) => values.map((v) => ratio(v)).join(', ');
// '1.43, 1.37, 1.32 (median 1.37)': per-round ratios and their median.
export const perRoundRatios = (values) => `${ratioList(values)} (median ${ratio(median(values))})`;

// The line around a summary.
export const rule = (width = 100) => '-'.repeat(width);
