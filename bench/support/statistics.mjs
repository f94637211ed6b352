// Quantiles for the benchmarks' summaries: this machine is noisy, so every
// figure is quoted as a median.

// The q-quantile of ascending values, interpolated between neighbours.
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
