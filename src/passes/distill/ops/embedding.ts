// Token embedding x[r] = table[tokens[r]]. Forward: embed in cpu-reference.
export { embed as embeddingForward } from '../../../runtime/cpu-reference';

/**
 * Backward of the embedding lookup: dx [rows, dim] scattered (summed) into dEmbedding [vocab, dim].
 * Pass `into` to accumulate into an existing buffer (e.g. the tied lm_head gradient).
 */
export function embeddingBackward(
  dx: Float32Array, tokens: ArrayLike<number>, vocab: number, dim: number, into?: Float32Array,
): Float32Array {
  const dE = into ?? new Float32Array(vocab * dim);
  for (let r = 0; r < tokens.length; r++) {
    const t = tokens[r];
    if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new RangeError(`token id ${t} outside vocabulary [0, ${vocab})`);
    const o = t * dim;
    for (let i = 0; i < dim; i++) dE[o + i] += dx[r * dim + i];
  }
  return dE;
}
