// RMSNorm y = x / sqrt(mean(x²) + eps) · weight, per row. Forward: rmsNorm in cpu-reference.
export { rmsNorm as rmsNormForward } from '../../../runtime/cpu-reference';

/**
 * Backward of RMSNorm. dy, x [rows, dim], weight [dim].
 * With s = (mean(x²)+eps)^-½:  dx_i = s·w_i·dy_i − x_i · s³/dim · Σ_j dy_j·w_j·x_j,  dweight_i = Σ_rows dy_i·x_i·s.
 * Pass `into` to accumulate dweight into an existing buffer.
 */
export function rmsNormBackward(
  dy: Float32Array, x: Float32Array, weight: Float32Array, rows: number, dim: number, eps: number,
  into?: Float32Array,
): { dx: Float32Array; dweight: Float32Array } {
  const dx = new Float32Array(rows * dim);
  const dweight = into ?? new Float32Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0, dot = 0;
    for (let i = 0; i < dim; i++) {
      ss += x[o + i] * x[o + i];
      dot += dy[o + i] * weight[i] * x[o + i];
    }
    const s = 1 / Math.sqrt(ss / dim + eps);
    const k = (s * s * s * dot) / dim;
    for (let i = 0; i < dim; i++) {
      dx[o + i] = s * weight[i] * dy[o + i] - x[o + i] * k;
      dweight[i] += dy[o + i] * x[o + i] * s;
    }
  }
  return { dx, dweight };
}
