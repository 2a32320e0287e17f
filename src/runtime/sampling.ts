// Token choice from logits: greedy, or temperature + top-k + top-p with a seeded generator so a run is reproducible.

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
  topK?: number;
  topP?: number;
}

export function sample(logits: Float32Array, opts: SamplingOptions, random: () => number): number {
  const t = opts.temperature ?? 0;
  if (t <= 0) return argmax(logits);
  let ids = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (opts.topK && opts.topK > 0) ids = ids.slice(0, opts.topK);
  const max = logits[ids[0]];
  let probs = ids.map((i) => Math.exp((logits[i] - max) / t));
  let sum = probs.reduce((a, b) => a + b, 0);
  if (opts.topP && opts.topP < 1) {
    let acc = 0, keep = 0;
    while (keep < probs.length && acc < opts.topP * sum) acc += probs[keep++];
    ids = ids.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = acc;
  }
  let r = random() * sum;
  for (let i = 0; i < ids.length; i++) if ((r -= probs[i]) <= 0) return ids[i];
  return ids[ids.length - 1];
}
