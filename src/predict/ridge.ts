// Ridge regression for a handful of features: standardise, solve (X^T X + lambda I) w = X^T y by Gaussian
// elimination (the system is a few by a few), leave the intercept unpenalised. Enough for a predictor fitted
// on tens of stored results, where a heavier model would only memorise them.

export interface LinearModel {
  intercept: number;
  weights: number[];
  /** Standardisation of each feature, learnt from the training rows. */
  center: number[];
  scale: number[];
}

export function fitRidge(X: readonly (readonly number[])[], y: readonly number[], lambda = 1e-2): LinearModel {
  const n = X.length, d = X[0]?.length ?? 0;
  if (n !== y.length) throw new Error(`ridge: ${n} rows but ${y.length} targets`);
  if (n < 2) throw new Error('ridge: needs at least two rows');
  const center = Array.from({ length: d }, (_, j) => X.reduce((s, r) => s + r[j], 0) / n);
  const scale = Array.from({ length: d }, (_, j) => Math.sqrt(X.reduce((s, r) => s + (r[j] - center[j]) ** 2, 0) / n) || 1);
  const Z = X.map((r) => r.map((v, j) => (v - center[j]) / scale[j]));
  const ym = y.reduce((s, v) => s + v, 0) / n;
  // normal equations on centred data: the intercept is then ym exactly
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => Z.reduce((s, r) => s + r[i] * r[j], 0) + (i === j ? lambda * n : 0)));
  const b = Array.from({ length: d }, (_, i) => Z.reduce((s, r, k) => s + r[i] * (y[k] - ym), 0));
  return { intercept: ym, weights: solve(A, b), center, scale };
}

export function predictLinear(m: LinearModel, x: readonly number[]): number {
  return m.weights.reduce((s, w, j) => s + (w * (x[j] - m.center[j])) / m.scale[j], m.intercept);
}

/** Solve A w = b for a small symmetric positive definite A (partial pivoting for safety). */
function solve(A: number[][], b: number[]): number[] {
  const d = b.length, M = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    if (M[c][c] === 0) throw new Error('ridge: singular system');
    for (let r = c + 1; r < d; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= d; k++) M[r][k] -= f * M[c][k];
    }
  }
  const w = new Array<number>(d).fill(0);
  for (let r = d - 1; r >= 0; r--) {
    let s = M[r][d];
    for (let k = r + 1; k < d; k++) s -= M[r][k] * w[k];
    w[r] = s / M[r][r];
  }
  return w;
}
