// Token choice from logits: greedy, or temperature + top-k + top-p with a seeded generator so a run is reproducible.
import { LogitOrder } from './logit-order';
import { sampleReference } from './sampling-reference';

/** mulberry32: tiny, fast, and good enough for sampling; the same seed gives the same text everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Keep the K most likely tokens (0 or absent = all). */
  topK?: number;
  /** Keep the smallest most-likely set whose probability reaches P (0, absent or >= 1 = all). */
  topP?: number;
}

/** A pool at most this large is sorted outright: selecting from it would cost more than the sort. */
const SORT_POOL_BELOW = 256;

/**
 * Draws one token (one call of `random`), exactly as `sampleReference` does, without sorting the vocabulary:
 * ids are bucketed by weight in one pass (logit-order.ts), and only the buckets that top-k, top-p and the draw
 * read are sorted.
 * The one number the reference gets from the full sort is the normalizer, the sum of every candidate's
 * weight added in sorted order; the sum in any other order differs from it by at most a few n * 2^-53 of
 * it, and both the top-p cut and the drawn token are monotone in that sum, so the draw is decided by
 * trying both ends of the interval. When they disagree (a fraction of about 2n * 2^-50 of draws: one in
 * 4 * 10^9 at a 152k vocabulary) the reference decides.
 */
export function sample(logits: Float32Array, opts: SamplingOptions, random: () => number): number {
  return sampleAt(logits, opts, random);
}

/** `sample`, with knobs for the test: `slack` widens the interval (a huge one forces the fallback). */
export function sampleAt(
  logits: Float32Array, opts: SamplingOptions, random: () => number,
  tune: { slack?: number; sortPoolBelow?: number; fallbacks?: number } = {},
): number {
  const t = opts.temperature ?? 0;
  if (t <= 0) return argmax(logits);
  const n = logits.length;
  // the reference's slice(0, topK) truncates a fractional K
  const pool = opts.topK && opts.topK > 0 && Math.trunc(opts.topK) < n ? Math.trunc(opts.topK) : n;
  const u = random();
  const max = logits[argmax(logits)];
  const order = new LogitOrder(logits, max, t, pool);
  const weight = (id: number) => Math.exp((logits[id] - max) / t);

  let sum = 0, err = 0;
  if (pool < (tune.sortPoolBelow ?? SORT_POOL_BELOW)) {
    for (let i = 0; i < pool; i++) sum += weight(order.at(i));
  } else {
    for (let i = 0; i < pool; i++) sum += weight(order.ids[i]);
    // both recursive sums are within (n-1) * 2^-53 / (1 - n * 2^-53) of the exact one; 2^-50 leaves room to spare
    err = sum * pool * 2 ** -50 * (tune.slack ?? 1);
  }
  const lo = sum - err, hi = sum + err;

  if (opts.topP && opts.topP < 1) {
    // the reference keeps the shortest sorted prefix whose running sum reaches topP * sum
    const thrLo = opts.topP * lo, thrHi = opts.topP * hi;
    let acc = 0, keep = 0, keepLo = -1;
    for (;;) {
      if (keepLo < 0 && acc >= thrLo) keepLo = keep;
      if (acc >= thrHi || keep === pool) break;
      acc += weight(order.at(keep++));
    }
    if (keepLo < 0) keepLo = keep;
    if (keepLo !== keep) return fallback(logits, opts, u, tune);
    let r = u * acc;
    for (let i = 0; i < keep; i++) if ((r -= weight(order.at(i))) <= 0) return order.at(i);
    return order.at(keep - 1);
  }

  let rLo = u * lo, rHi = u * hi, hitLo = -1;
  for (let i = 0; i < pool; i++) {
    const w = weight(order.at(i));
    if ((rLo -= w) <= 0 && hitLo < 0) hitLo = i;
    if ((rHi -= w) <= 0) return hitLo === i ? order.at(i) : fallback(logits, opts, u, tune);
  }
  return hitLo < 0 ? order.at(pool - 1) : fallback(logits, opts, u, tune);
}

function fallback(logits: Float32Array, opts: SamplingOptions, u: number, tune: { fallbacks?: number }): number {
  tune.fallbacks = (tune.fallbacks ?? 0) + 1;
  return sampleReference(logits, opts, () => u);
}
