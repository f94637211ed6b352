// The benches' statistics, in one place. This machine is noisy, so every
// figure is quoted as a median, with min/max (or p10/p90) for the spread; two
// kinds measured in alternating rounds are compared by the ratio of their
// medians, with the median of the per-round ratios beside it. Values that are
// not finite numbers (NaN, null, undefined: a figure a trial did not have)
// are left out of every statistic.

// The finite values, ascending.
export function sortedFinite(values) {
  return values.filter(Number.isFinite).sort((a, b) => a - b);
}

// The q-quantile of ascending values, interpolated between neighbours.
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(sortedFinite(values), 0.5);

// A sample: how many values, their median, min and max (NaN when empty).
export function summary(values) {
  const sorted = sortedFinite(values);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted.length > 0 ? sorted[0] : NaN,
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
  };
}

// A large sample (round trips): the summary, plus p10, p90 and the mean.
export function distribution(values) {
  const sorted = sortedFinite(values);
  return {
    ...summary(sorted),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

// Per-round ratios a[i] / b[i] of two kinds measured in the same rounds.
export function ratios(a, b) {
  if (a.length !== b.length) throw new RangeError(`ratios: ${a.length} values against ${b.length}`);
  return a.map((x, i) => x / b[i]);
}
