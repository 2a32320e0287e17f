// Dense linear algebra the second-order passes share (GPTQ, SparseGPT): Cholesky factors of a Hessian and
// of its inverse, in float64.

/** In-place lower Cholesky factor of a symmetric [n, n] matrix; false when it is not positive definite. */
export function cholesky(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= A[j * n + k] ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    A[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) A[j * n + k] = 0;
  }
  return true;
}

/** U upper triangular with H^-1 = U^T U (row i of U feeds column i's error forward), or undefined. */
export function inverseCholeskyUpper(H: Float64Array, n: number): Float64Array | undefined {
  const L = Float64Array.from(H);
  if (!cholesky(L, n)) return undefined;
  // M = L^-1 by forward substitution, then H^-1 = M^T M
  const M = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = c; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= L[i * n + k] * M[k * n + c];
      M[i * n + c] = s / L[i * n + i];
    }
  }
  const Hinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += M[k * n + i] * M[k * n + j];
      Hinv[i * n + j] = Hinv[j * n + i] = s;
    }
  }
  if (!cholesky(Hinv, n)) return undefined;
  // the transpose of the lower factor is the upper one
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) U[i * n + j] = Hinv[j * n + i];
  return U;
}

/**
 * The lazy batch update of GPTQ/SparseGPT: after columns [i1, i2) were fixed with errors `err` ([rows, i2 - i1],
 * already divided by U's diagonal), push their effect onto every later column in one pass.
 */
export function propagateBlockError(
  W: Float32Array | Float64Array, rows: number, cols: number, err: Float64Array | Float32Array, i1: number, i2: number, U: Float64Array,
): void {
  const count = i2 - i1;
  for (let r = 0; r < rows; r++) {
    for (let j = i2; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < count; k++) s += err[r * count + k] * U[(i1 + k) * cols + j];
      W[r * cols + j] -= s;
    }
  }
}
