// Per-key rate limiting of signed writes (requests, submissions): a token bucket per signer, refilled
// continuously at `perMinute` per minute up to `burst`. It is charged after the signature verifies, so nobody can
// spend another key's budget by naming it in a forged body. In memory, per service process: behind a load
// balancer each process limits on its own (a key gets up to N times the rate over N processes).
export interface RateLimit {
  /** Writes per key per minute, sustained. */
  perMinute: number;
  /** Writes a key may make at once after being idle. */
  burst: number;
}

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly limit: RateLimit) {
    if (!(limit.perMinute > 0 && limit.burst >= 1)) throw new Error(`rate limit needs perMinute > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
  }

  take(key: string, now: number): Take {
    const perMs = this.limit.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / perMs) };
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.sweep(now);
    return { ok: true };
  }

  /** Forget keys whose bucket has refilled: they are as good as new. */
  private sweep(now: number) {
    const perMs = this.limit.perMinute / 60_000;
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * perMs >= this.limit.burst) this.buckets.delete(k);
  }
}

/** "120/min", "5/s", "0" (off). */
export function parseRateLimit(text: string): RateLimit | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min|h|hour))?\s*$/.exec(text);
  if (!m) throw new Error(`rate limit "${text}" is not N/min, N/s or N/h (0 turns it off)`);
  const n = Number(m[1]);
  if (n === 0) return null;
  const perMinute = n * ({ s: 60, sec: 60, m: 1, min: 1, h: 1 / 60, hour: 1 / 60 }[(m[2] ?? 'min') as 'min']);
  return { perMinute, burst: Math.max(1, Math.ceil(Math.min(n, perMinute))) };
}
