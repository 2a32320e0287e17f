// Linear layer y = x·Wᵀ (+ b), W in HF layout [outDim, inDim]. Forward: matmulT in cpu-reference.
export { matmulT as matmulForward } from '../../../runtime/cpu-reference';

/**
 * Backward of y = x·Wᵀ + b.
 * dy [rows, outDim], x [rows, inDim], w [outDim, inDim]
 * -> dx [rows, inDim] = dy·W, dw [outDim, inDim] = dyᵀ·x, db [outDim] = column sums of dy.
 * Pass `into.dw` / `into.db` to accumulate into existing gradient buffers instead of fresh ones, and
 * `weightGrad: false` for a frozen weight: dx only (dw and db come back empty).
 */
export function matmulBackward(
  dy: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number,
  into: { dw?: Float32Array; db?: Float32Array; weightGrad?: boolean } = {},
): { dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const wantW = into.weightGrad !== false;
  const dx = new Float32Array(rows * inDim);
  const dw = into.dw ?? new Float32Array(wantW ? outDim * inDim : 0);
  const db = into.db ?? new Float32Array(wantW ? outDim : 0);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    for (let o = 0; o < outDim; o++) {
      const g = dy[r * outDim + o];
      if (g === 0) continue;
      const wo = o * inDim;
      for (let i = 0; i < inDim; i++) dx[xo + i] += g * w[wo + i];
      if (!wantW) continue;
      db[o] += g;
      for (let i = 0; i < inDim; i++) dw[wo + i] += g * x[xo + i];
    }
  }
  return { dx, dw, db };
}
