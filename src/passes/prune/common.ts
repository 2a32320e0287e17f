// What every unstructured / semi-structured pruner shares: which tensors are pruned and to what sparsity (the
// linear layers of the blocks by default; the embedding and the output projection only when asked), the N:M
// pattern option, choosing the weights to remove from a score (per tensor, per output row, or per group of M
// inputs), and writing the result. Pruned weights are zeros in an f32 tensor; a packed sparse format is a
// later step. Every method removes exactly the same number of weights per tensor, so their rows compare at
// equal sparsity: round(sparsity * inputs) per output row (N:M: M - N of every M consecutive inputs).
import { z } from 'zod';
import { throwIfAborted } from '../../io/errors';
import type { Model } from '../../model/model';
import { EMBED, LM_HEAD } from '../../model/names';
import { f32Tensor, toFloat32, type Tensor } from '../../model/tensor';
import type { PassContext } from '../pass';
import { isLinearWeight } from '../quant/common';

export const PruneParams = z.object({
  /** Fraction of each selected tensor's weights set to zero (ignored under an N:M pattern). */
  sparsity: z.number().min(0).max(1).default(0.5),
  /** Per-layer sparsity by layer index ("0", "1", ...); wins over `sparsity` for that layer's linears. */
  layers: z.record(z.string().regex(/^\d+$/), z.number().min(0).max(1)).default({}),
  /** Per-tensor sparsity by canonical name; wins over the above. */
  overrides: z.record(z.string(), z.number().min(0).max(1)).default({}),
  /** Semi-structured: keep N of every M consecutive inputs of each row. Tensors whose inputs are not whole groups are left dense. */
  pattern: z.enum(['unstructured', '2:4', '4:8']).default('unstructured'),
  /** Also prune the token embedding / the output projection (with tied embeddings the one matrix is both). */
  embedding: z.boolean().default(false),
  lmHead: z.boolean().default(false),
});
export type PruneParams = z.output<typeof PruneParams>;

/** What to do with one tensor: prune `sparsity` of it, or keep N of every M inputs when `nm` is set. */
export interface PruneTarget { sparsity: number; nm?: { n: number; m: number } }

export const parsePattern = (p: PruneParams['pattern']) => {
  if (p === 'unstructured') return undefined;
  const [n, m] = p.split(':').map(Number);
  return { n, m };
};

/**
 * Tensor name -> its target, for every tensor the params select. Under N:M a tensor whose row is not whole
 * groups of M is left out (reported by the pass), as quantizers fall back when blocks do not fit.
 */
export function prunePlan(model: Model, p: PruneParams): { plan: Map<string, PruneTarget>; skipped: string[] } {
  const plan = new Map<string, PruneTarget>(), skipped: string[] = [];
  const nm = parsePattern(p.pattern);
  for (const name of Object.keys(p.overrides)) {
    if (!model.tensors.has(name) || !(isLinearWeight(name) || name === EMBED || name === LM_HEAD)) throw new Error(`prune override for ${name}: not a prunable tensor of this model`);
  }
  for (const [name, t] of model.tensors) {
    if (t.shape.length !== 2) continue;
    const selected = isLinearWeight(name) || (name === EMBED && p.embedding) || (name === LM_HEAD && p.lmHead) || name in p.overrides;
    if (!selected) continue;
    const layer = /^model\.layers\.(\d+)\./.exec(name)?.[1];
    const sparsity = name in p.overrides ? p.overrides[name] : layer !== undefined && layer in p.layers ? p.layers[layer] : p.sparsity;
    if (nm) {
      if (t.shape[1] % nm.m) skipped.push(name);
      else plan.set(name, { sparsity: 1 - nm.n / nm.m, nm });
    } else if (sparsity > 0) plan.set(name, { sparsity });
  }
  return { plan, skipped };
}

/** Weights removed from a row of `cols` inputs at `sparsity`. */
export const rowQuota = (cols: number, sparsity: number) => Math.round(sparsity * cols);

/** Indices of the k smallest of `score[start .. start + n)` (ties to the lower index), offsets from start. */
export function smallestK(score: ArrayLike<number>, start: number, n: number, k: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => score[start + a] - score[start + b] || a - b);
  return idx.slice(0, k);
}

/**
 * The pruning mask (1 = removed) of a [rows, cols] score matrix: per output row (the row's quota of smallest
 * scores), per tensor (the same total, the smallest scores anywhere), or N:M (M - N smallest of each group).
 */
export function selectMask(score: ArrayLike<number>, rows: number, cols: number, target: PruneTarget, scope: 'row' | 'tensor'): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  if (target.nm) {
    const { n, m } = target.nm;
    for (let s = 0; s < rows * cols; s += m) for (const j of smallestK(score, s, m, m - n)) mask[s + j] = 1;
  } else if (scope === 'row') {
    const k = rowQuota(cols, target.sparsity);
    for (let r = 0; r < rows; r++) for (const j of smallestK(score, r * cols, cols, k)) mask[r * cols + j] = 1;
  } else {
    for (const j of smallestK(score, 0, rows * cols, rows * rowQuota(cols, target.sparsity))) mask[j] = 1;
  }
  return mask;
}

/** Fraction of exact zeros. */
export function sparsityOf(values: ArrayLike<number>): number {
  let z = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) z++;
  return values.length ? z / values.length : 0;
}

/**
 * Replace each planned tensor with `prune(weights, rows, cols, target)` (f32, zeros where pruned), one at a
 * time, with progress, cancellation between tensors and a per-tensor report. The input model is not modified.
 */
export async function pruneTensors(
  model: Model, p: PruneParams, ctx: PassContext, stage: string,
  prune: (t: Tensor, W: Float32Array, target: PruneTarget) => Float32Array | Promise<Float32Array>,
): Promise<Model> {
  const { plan, skipped } = prunePlan(model, p);
  for (const name of skipped) ctx.report?.({ pass: stage, tensor: name, skipped: `inputs (${model.tensors.get(name)!.shape[1]}) are not whole ${p.pattern} groups; left dense` });
  const tensors = new Map(model.tensors);
  let done = 0;
  for (const [name, target] of plan) {
    throwIfAborted(ctx.signal);
    const t = model.tensors.get(name)!;
    const out = await prune(t, toFloat32(t), target);
    tensors.set(name, f32Tensor(name, t.shape, out));
    ctx.report?.({ pass: stage, tensor: name, target: target.nm ? p.pattern : target.sparsity, sparsity: sparsityOf(out) });
    ctx.onProgress?.({ stage, done: ++done, total: plan.size });
  }
  return { ...model, tensors };
}

/** W with the masked weights zeroed (a copy). */
export function applyMask(W: Float32Array, mask: Uint8Array): Float32Array {
  const out = Float32Array.from(W);
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0;
  return out;
}

// ---- the inverse Hessian's Cholesky factor (as GPTQ uses it) ------------------------------------------

/** In-place lower Cholesky factor of a symmetric [n, n] matrix; false when it is not positive definite. */
function cholesky(A: Float64Array, n: number): boolean {
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

/** U upper triangular with H^-1 = U^T U, or undefined when H is not positive definite. */
function inverseCholeskyUpper(H: Float64Array, n: number): Float64Array | undefined {
  const L = Float64Array.from(H);
  if (!cholesky(L, n)) return undefined;
  const M = new Float64Array(n * n); // L^-1
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
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) U[i * n + j] = Hinv[j * n + i];
  return U;
}

/**
 * The upper Cholesky factor of (H + damp * mean(diag H) * I)^-1, dead inputs (H_ii = 0) given a unit diagonal;
 * the damping grows tenfold until the factorisation succeeds.
 */
export function dampedInverseUpper(H: Float64Array, cols: number, damp: number): Float64Array {
  let meanDiag = 0;
  for (let i = 0; i < cols; i++) meanDiag += H[i * cols + i];
  meanDiag = meanDiag / cols || 1;
  for (let d = damp, tries = 0; ; d = Math.max(d * 10, 1e-6), tries++) {
    if (tries > 8) throw new Error('the Hessian is not positive definite even after damping');
    const Hd = Float64Array.from(H);
    for (let i = 0; i < cols; i++) Hd[i * cols + i] = (Hd[i * cols + i] === 0 ? 1 : Hd[i * cols + i]) + d * meanDiag;
    const U = inverseCholeskyUpper(Hd, cols);
    if (U) return U;
  }
}
