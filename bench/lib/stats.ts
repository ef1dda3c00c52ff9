/** Summary of one case's samples, in milliseconds. */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  mean: number;
  /** Sequential throughput: 1000 / mean. */
  opsPerSecond: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize needs at least one sample.');
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p95: nearestRank(sorted, 0.95),
    mean,
    opsPerSecond: 1000 / mean,
  };
}

/** Linear interpolation between the two middle values, so the median of an even count is exact. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

function nearestRank(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}
