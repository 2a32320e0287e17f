// Log-probabilities from one row of logits, in double precision and stable for large logits. Perplexity,
// log-likelihood scoring and KLD all read logits through these.

export function logSumExp(logits: Float32Array, offset: number, vocab: number): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (logits[offset + i] > max) max = logits[offset + i];
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
  return max + Math.log(sum);
}

/** -log p(target) under softmax(logits[offset .. offset + vocab)). */
export function negLogLikelihood(logits: Float32Array, offset: number, vocab: number, target: number): number {
  return logSumExp(logits, offset, vocab) - logits[offset + target];
}

/** log softmax of one row, written into `out` at `outOffset` (a fresh Float64Array by default). */
export function logSoftmaxRow<T extends Float32Array | Float64Array = Float64Array>(
  logits: Float32Array, offset: number, vocab: number, out: T = new Float64Array(vocab) as T, outOffset = 0,
): T {
  const lse = logSumExp(logits, offset, vocab);
  for (let i = 0; i < vocab; i++) out[outOffset + i] = logits[offset + i] - lse;
  return out;
}
