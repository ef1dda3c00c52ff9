/**
 * A token bucket per client address, for the local stack's public routes (API.md 13.4: the
 * share-link route is rate limited locally; API Gateway throttles it in AWS). Each address
 * holds up to `burst` tokens, refilled at `ratePerSecond`; a request takes one or is refused.
 */
export interface RateLimiterOptions {
  /** Tokens added per second per address. */
  readonly ratePerSecond: number;
  /** Most tokens an address holds: the burst it may send at once. */
  readonly burst: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Addresses remembered at most; full (idle) buckets are forgotten first. @default 10_000 */
  readonly maxAddresses?: number;
}

export interface RateLimiter {
  /** 0 when the request may go; otherwise the seconds until a token is back (for Retry-After). */
  take(address: string): number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  if (!(opts.ratePerSecond > 0) || !(opts.burst >= 1))
    throw new Error('createRateLimiter needs ratePerSecond > 0 and burst >= 1.');
  const now = opts.now ?? Date.now;
  const max = opts.maxAddresses ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const refill = (bucket: { tokens: number; at: number }, t: number) => {
    bucket.tokens = Math.min(opts.burst, bucket.tokens + ((t - bucket.at) / 1000) * opts.ratePerSecond);
    bucket.at = t;
  };
  const forgetIdle = (t: number) => {
    for (const [address, bucket] of buckets) {
      refill(bucket, t);
      if (bucket.tokens >= opts.burst) buckets.delete(address);
    }
    // Still full of busy addresses: drop the oldest, which at worst gives one a fresh burst.
    while (buckets.size >= max) buckets.delete(buckets.keys().next().value as string);
  };

  return {
    take(address) {
      const t = now();
      let bucket = buckets.get(address);
      if (!bucket) {
        if (buckets.size >= max) forgetIdle(t);
        bucket = { tokens: opts.burst, at: t };
        buckets.set(address, bucket);
      } else refill(bucket, t);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / opts.ratePerSecond));
    },
  };
}
