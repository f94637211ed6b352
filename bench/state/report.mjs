// What the state bench prints and saves: each measurement's trials for the
// JSON, the table's rows (ours against Yjs, their ratio) and notes.
import { bytes as fmtB, msShort as fmtMs, ratio as fmtRatio, rule } from '../support/format.mjs';
import { round, roundStats } from '../support/results.mjs';
import { summary } from '../support/statistics.mjs';

// A measurement's trials for the JSON: the summary and every value, to 3 decimals.
export const stats = (values) => ({ ...roundStats(summary(values), 3), values: values.map((v) => round(v, 3)) });

function printTable(rows) {
  const headers = ['measurement', 'ours (median)', 'Yjs (median)', 'Yjs/ours'];
  const cells = rows.map((r) => (r.note ? null : [r.label, r.ours, r.yjs, r.ratio]));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.filter(Boolean).map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  rows.forEach((r, i) => console.log(r.note ? `  ${r.note}` : line(cells[i])));
}

export function row(label, ours, yjs, kind) {
  const ratio = Number.isFinite(ours) && Number.isFinite(yjs) && ours > 0 ? yjs / ours : NaN;
  const fmt = kind === 'bytes' ? fmtB : fmtMs;
  return { label, ours: fmt(ours), yjs: fmt(yjs), ratio: fmtRatio(ratio), value: ratio };
}

export const note = (text) => ({ note: text });
const verdict = (ok) => (ok ? 'met' : 'missed');

// After the sections: the table, then each target and whether it was met.
export function printSummary(rows, targets, trials) {
  const line = rule(110);
  console.log(`\n${line}\nPeerCompute replicated state vs Yjs — medians of ${trials} trials; Yjs/ours > 1 means ours is faster/smaller\n${line}`);
  printTable(rows);
  console.log(line);
  if (targets.length === 0) console.log('(no targets in the sections run)');
  for (const t of targets) {
    console.log(`${t.info ? 'info' : 'target'}: ${t.name}: Yjs/ours = ${fmtRatio(t.value)} -> ${verdict(t.met)}${'aim' in t ? ` (aim 2: ${verdict(t.aim)})` : ''}`);
  }
  console.log(line);
}

// The table and the targets as the JSON keeps them.
export function addSummary(results, rows, targets) {
  results.table = rows.map((r) => (r.note ? { note: r.note } : { measurement: r.label, ours: r.ours, yjs: r.yjs, yjsOverOurs: round(r.value, 4) }));
  results.targets = targets.map((t) => ({ ...t, value: round(t.value, 4) }));
}
