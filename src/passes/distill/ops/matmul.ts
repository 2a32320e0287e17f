// Linear layer y = x·Wᵀ (+ b), W in HF layout [outDim, inDim]. Forward: matmulT in cpu-reference.
export { matmulT as matmulForward } from '../../../runtime/cpu-reference';

/**
 * Backward of y = x·Wᵀ + b.
 * dy [rows, outDim], x [rows, inDim], w [outDim, inDim]
 * -> dx [rows, inDim] = dy·W, dw [outDim, inDim] = dyᵀ·x, db [outDim] = column sums of dy.
 * Pass `into.dw` / `into.db` to accumulate into existing gradient buffers instead of fresh ones.
 */
export function matmulBackward(
  dy: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number,
  into: { dw?: Float32Array; db?: Float32Array } = {},
): { dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const dx = new Float32Array(rows * inDim);
  const dw = into.dw ?? new Float32Array(outDim * inDim);
  const db = into.db ?? new Float32Array(outDim);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    for (let o = 0; o < outDim; o++) {
      const g = dy[r * outDim + o];
      if (g === 0) continue;
      db[o] += g;
      const wo = o * inDim;
      for (let i = 0; i < inDim; i++) {
        dx[xo + i] += g * w[wo + i];
        dw[wo + i] += g * x[xo + i];
      }
    }
  }
  return { dx, dw, db };
}
