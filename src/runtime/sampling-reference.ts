// The sampler as first written: sort the whole vocabulary, cut top-k, cut top-p, draw. Kept verbatim as the
// definition of what `sample` must return (test/unit/sampling.test.ts checks token for token) and as the
// path `sample` falls back to on the rare draw its partial selection cannot decide (see sampling.ts).
import type { SamplingOptions } from './sampling';

export function sampleReference(logits: Float32Array, opts: SamplingOptions, random: () => number): number {
  const t = opts.temperature ?? 0;
  if (t <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
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
