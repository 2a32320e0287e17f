// Linear layer y = x·Wᵀ (+ b), W in HF layout [outDim, inDim]. Forward: matmulT in cpu-reference.
export { matmulT as matmulForward } from '../../../runtime/cpu-reference';

/** out[r, c] (+)= Σ_k a[r, k]·b[c, k]: row-by-row dot products, four partial sums to shorten the dependency chain. */
function dotRows(a: Float32Array, b: Float32Array, rows: number, cols: number, k: number, out: Float32Array): void {
  const k4 = k & ~3;
  for (let r = 0; r < rows; r++) {
    const ao = r * k;
    for (let c = 0; c < cols; c++) {
      const bo = c * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let i = 0;
      for (; i < k4; i += 4) {
        s0 += a[ao + i] * b[bo + i];
        s1 += a[ao + i + 1] * b[bo + i + 1];
        s2 += a[ao + i + 2] * b[bo + i + 2];
        s3 += a[ao + i + 3] * b[bo + i + 3];
      }
      for (; i < k; i++) s0 += a[ao + i] * b[bo + i];
      out[r * cols + c] += s0 + s1 + s2 + s3;
    }
  }
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/**
 * Backward of y = x·Wᵀ + b.
 * dy [rows, outDim], x [rows, inDim], w [outDim, inDim]
 * -> dx [rows, inDim] = dy·W, dw [outDim, inDim] = dyᵀ·x, db [outDim] = column sums of dy.
 * Pass `into.dw` / `into.db` to accumulate into existing gradient buffers instead of fresh ones, and
 * `weightGrad: false` for a frozen weight: dx only (dw and db come back empty).
 * Both products run as contiguous dot products over transposed copies (faster than strided axpys).
 */
export function matmulBackward(
  dy: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number,
  into: { dw?: Float32Array; db?: Float32Array; weightGrad?: boolean } = {},
): { dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const wantW = into.weightGrad !== false;
  const dx = new Float32Array(rows * inDim);
  dotRows(dy, transpose(w, outDim, inDim), rows, inDim, outDim, dx);
  const dw = into.dw ?? new Float32Array(wantW ? outDim * inDim : 0);
  const db = into.db ?? new Float32Array(wantW ? outDim : 0);
  if (wantW) {
    const dyT = transpose(dy, rows, outDim);
    dotRows(dyT, transpose(x, rows, inDim), outDim, inDim, rows, dw);
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += dyT[o * rows + r];
      db[o] += s;
    }
  }
  return { dx, dw, db };
}
