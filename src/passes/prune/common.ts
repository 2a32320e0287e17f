// What every unstructured / semi-structured pruner shares: which tensors are pruned and to what sparsity (the
// linear layers of the blocks by default; the embedding and the output projection only when asked), the N:M
// pattern option, choosing the weights to remove from a score (per tensor, per output row, or per group of M
// inputs), and writing the result. Pruned weights are zeros in an f32 tensor; a packed sparse format is a
// later step. Every method removes exactly the same number of weights per tensor, so their rows compare at
// equal sparsity: round(sparsity * inputs) per output row (N:M: M - N of every M consecutive inputs).
import { inverseCholeskyUpper } from '../linalg';
import { z } from 'zod';
import { cancelPoint } from '../cancel-point';
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
  /**
   * How `sparsity` is spread over the layers: the same everywhere, or OWL (Yin et al., 2024): layers with more
   * outlier weights (score |w| x ||x|| above `owlM` times their tensor's mean) keep more, within +/- `owlLambda`
   * of the target, the mean over layers staying at the target. `layers` and `overrides` still win.
   */
  allocation: z.enum(['uniform', 'owl']).default('uniform'),
  owlM: z.number().positive().default(5),
  owlLambda: z.number().min(0).max(0.5).default(0.08),
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
export function prunePlan(model: Model, p: PruneParams, layerSparsity?: ReadonlyMap<number, number>): { plan: Map<string, PruneTarget>; skipped: string[] } {
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
    const sparsity = name in p.overrides ? p.overrides[name]
      : layer !== undefined && layer in p.layers ? p.layers[layer]
      : layer !== undefined && layerSparsity?.has(Number(layer)) ? layerSparsity.get(Number(layer))! : p.sparsity;
    if (nm) {
      if (t.shape[1] % nm.m) skipped.push(name);
      else plan.set(name, { sparsity: 1 - nm.n / nm.m, nm });
    } else if (sparsity > 0) plan.set(name, { sparsity });
  }
  return { plan, skipped };
}

/**
 * OWL's allocation: layer outlier ratios D_l mapped linearly onto keep ratios in [0, 2 lambda], shifted so
 * their mean is 1 - sparsity; a layer's sparsity is 1 minus its keep ratio (clamped to [0, 1]). Equal ratios
 * give the uniform allocation.
 */
export function owlAllocation(ratios: readonly number[], sparsity: number, lambda: number): number[] {
  const min = Math.min(...ratios), max = Math.max(...ratios);
  if (!(max > min)) return ratios.map(() => sparsity);
  const keep = ratios.map((d) => ((d - min) / (max - min)) * 2 * lambda);
  const mean = keep.reduce((a, b) => a + b, 0) / keep.length;
  return keep.map((k) => Math.min(1, Math.max(0, 1 - (k - mean + 1 - sparsity))));
}

/**
 * Each block's outlier ratio (OWL's D_l): the fraction of its linear weights whose score |w| x ||x_j|| (|w|
 * without calibration statistics) exceeds `m` times the mean score of their tensor.
 */
export function outlierRatios(model: Model, m: number, sqSumOf: (name: string) => ArrayLike<number> | undefined): Map<number, number> {
  const count = new Map<number, [number, number]>();
  for (const [name, t] of model.tensors) {
    const layer = /^model\.layers\.(\d+)\./.exec(name)?.[1];
    if (layer === undefined || !isLinearWeight(name)) continue;
    const [rows, cols] = t.shape, W = toFloat32(t), sq = sqSumOf(name);
    const score = new Float64Array(rows * cols);
    let mean = 0;
    for (let i = 0; i < score.length; i++) mean += score[i] = Math.abs(W[i]) * (sq ? Math.sqrt(sq[i % cols]) : 1);
    mean /= score.length;
    let over = 0;
    for (let i = 0; i < score.length; i++) if (score[i] > m * mean) over++;
    const c = count.get(Number(layer)) ?? [0, 0];
    count.set(Number(layer), [c[0] + over, c[1] + score.length]);
  }
  return new Map([...count].map(([l, [o, n]]) => [l, o / n]));
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
 * Replace each planned tensor with `prune(weights, rows, cols, target)` (f32 with zeros where pruned, or a
 * tensor already stored in another format: joint pruning and quantization), one at a time, with progress, cancellation between tensors and a per-tensor report. The input model is not modified.
 */
export async function pruneTensors(
  model: Model, p: PruneParams, ctx: PassContext, stage: string,
  prune: (t: Tensor, W: Float32Array, target: PruneTarget) => Float32Array | Tensor | Promise<Float32Array | Tensor>,
  sqSumOf: (name: string) => ArrayLike<number> | undefined = () => undefined,
): Promise<Model> {
  let layerSparsity: Map<number, number> | undefined;
  if (p.allocation === 'owl' && p.pattern === 'unstructured') {
    const ratios = outlierRatios(model, p.owlM, sqSumOf);
    const layers = [...ratios.keys()], alloc = owlAllocation([...ratios.values()], p.sparsity, p.owlLambda);
    layerSparsity = new Map(layers.map((l, i) => [l, alloc[i]]));
    ctx.report?.({ pass: stage, allocation: 'owl', layers: layers.map((l, i) => ({ layer: l, outlierRatio: ratios.get(l), sparsity: alloc[i] })) });
  }
  const { plan, skipped } = prunePlan(model, p, layerSparsity);
  for (const name of skipped) ctx.report?.({ pass: stage, tensor: name, skipped: `inputs (${model.tensors.get(name)!.shape[1]}) are not whole ${p.pattern} groups; left dense` });
  const tensors = new Map(model.tensors);
  let done = 0;
  for (const [name, target] of plan) {
    await cancelPoint(ctx.signal);
    const t = model.tensors.get(name)!;
    const out = await prune(t, toFloat32(t), target);
    const pruned = out instanceof Float32Array ? f32Tensor(name, t.shape, out) : out;
    tensors.set(name, pruned);
    ctx.report?.({ pass: stage, tensor: name, target: target.nm ? p.pattern : target.sparsity, sparsity: sparsityOf(out instanceof Float32Array ? out : toFloat32(out)), dtype: pruned.dtype });
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
