// Requests per token and minute: a token bucket per key, in memory. Each instance counts on its
// own, so N instances behind a load balancer admit up to N times the limit in all.

export type RateVerdict =
  | { readonly allowed: true; readonly remaining: number }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  readonly limit: number;
  take(key: string): RateVerdict;
}

export interface RateLimiterOptions {
  /** Requests a minute; also the burst a fresh or idle key may spend at once. */
  readonly perMinute: number;
  readonly now?: () => number;
  /** Keys kept before full (idle) buckets are forgotten. */
  readonly maxKeys?: number;
}

export const createRateLimiter = (options: RateLimiterOptions): RateLimiter => {
  const { perMinute, now = Date.now, maxKeys = 10_000 } = options;
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const refill = (b: { tokens: number; at: number }, t: number) => {
    b.tokens = Math.min(perMinute, b.tokens + Math.max(0, t - b.at) * perMs);
    b.at = t;
  };

  const prune = (t: number) => {
    for (const [key, b] of buckets) {
      refill(b, t);
      if (b.tokens >= perMinute) buckets.delete(key);
    }
  };

  return {
    limit: perMinute,
    take(key) {
      const t = now();
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) prune(t);
        b = { tokens: perMinute, at: t };
        buckets.set(key, b);
      }
      refill(b, t);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true, remaining: Math.floor(b.tokens) };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
    },
  };
};
