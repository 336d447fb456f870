/**
 * Per-client token buckets: `ratePerSecond` sustained, bursts up to twice that. In memory, per
 * process: with N instances the effective limit is N times higher (docs/operations.md). A rate of 0
 * turns limiting off.
 */
export interface RateLimiter {
  /** Takes one token for `key`; false when the client is over its rate. */
  take(key: string): boolean;
}

export function rateLimiter(ratePerSecond: number, now: () => number = Date.now): RateLimiter {
  if (ratePerSecond <= 0) return { take: () => true };
  const burst = ratePerSecond * 2;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * ratePerSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      if (buckets.size > 10_000) buckets.delete(buckets.keys().next().value!); // bounded memory
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}
