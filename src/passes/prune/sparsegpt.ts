// SparseGPT (Frantar & Alistarh, 2023): prune a layer's input columns left to right and push each removed
// weight's error onto the columns not yet visited through the inverse calibration Hessian (the OBS update),
// so the output error tr((W - Q) H (W - Q)^T) stays small. As in the reference implementation: damped H, the
// upper Cholesky factor of H^-1, lazy batch updates over blocks of columns, and adaptive mask selection per
// block: when a block of 128 columns comes up, each row removes its quota in that block by the OBS error
// w^2 / [H^-1]_cc^2 of the weights as updated so far (under N:M, each group of M when its first column comes up).
import { propagateBlockError } from '../linalg';
import { z } from 'zod';
import { definePass } from '../pass';
import { linearStats } from '../quant/common';
import { dampedInverseUpper, PruneParams, pruneTensors, rowQuota, smallestK, type PruneTarget } from './common';
import { magnitudePrune } from './magnitude';

export const SparseGptParams = PruneParams.extend({
  /** Added to H's diagonal, as a fraction of its mean diagonal (the reference's percdamp). */
  damp: z.number().min(0).max(1).default(0.01),
  /** Columns per lazy batch update and per mask selection. */
  blockSize: z.number().int().positive().default(128),
});
export type SparseGptOptions = Pick<z.output<typeof SparseGptParams>, 'damp' | 'blockSize'>;

/** SparseGPT one matrix W [rows, cols] against H [cols, cols]; returns the pruned and updated weights. */
export function sparseGptPrune(W: Float32Array, rows: number, cols: number, H: Float64Array, target: PruneTarget, o: SparseGptOptions = { damp: 0.01, blockSize: 128 }): Float32Array {
  const nm = target.nm;
  if (nm && (o.blockSize % nm.m || cols % nm.m)) throw new Error(`sparsegpt: block ${o.blockSize} and inputs ${cols} must be whole groups of ${nm.m}`);
  const U = dampedInverseUpper(H, cols, o.damp);
  const Wp = Float64Array.from(W);
  const total = rowQuota(cols, target.sparsity);
  const mask = new Uint8Array(rows * cols);
  const score = new Float64Array(Math.max(o.blockSize, cols));
  for (let i1 = 0; i1 < cols; i1 += o.blockSize) {
    const i2 = Math.min(i1 + o.blockSize, cols), count = i2 - i1;
    if (!nm) {
      // this block's share of each row's quota, rounded cumulatively so the row's total is exact
      const k = Math.round((total * i2) / cols) - Math.round((total * i1) / cols);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < count; j++) score[j] = Wp[r * cols + i1 + j] ** 2 / U[(i1 + j) * cols + i1 + j] ** 2;
        for (const j of smallestK(score, 0, count, k)) mask[r * cols + i1 + j] = 1;
      }
    }
    const err = new Float64Array(rows * count);
    for (let i = i1; i < i2; i++) {
      if (nm && (i - i1) % nm.m === 0) {
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < nm.m; j++) score[j] = Wp[r * cols + i + j] ** 2 / U[(i + j) * cols + i + j] ** 2;
          for (const j of smallestK(score, 0, nm.m, nm.m - nm.n)) mask[r * cols + i + j] = 1;
        }
      }
      const d = U[i * cols + i];
      for (let r = 0; r < rows; r++) {
        if (!mask[r * cols + i]) continue; // kept: no error to spread
        const e = Wp[r * cols + i] / d;
        Wp[r * cols + i] = 0;
        err[r * count + i - i1] = e;
        for (let j = i + 1; j < i2; j++) Wp[r * cols + j] -= e * U[i * cols + j];
      }
    }
    propagateBlockError(Wp, rows, cols, err, i1, i2, U);
  }
  const out = Float32Array.from(Wp);
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0; // exact zeros, whatever the updates left
  return out;
}

export const sparsegpt = definePass({
  id: 'sparsegpt',
  version: 1,
  family: 'prune',
  summary: 'SparseGPT: Hessian-aware pruning with OBS weight updates (calibration data)',
  params: SparseGptParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('sparsegpt needs calibration data');
    const stats = await linearStats(model, ctx.calibration, ctx);
    return pruneTensors(model, params, ctx, 'sparsegpt', (t, W, target) => {
      const H = stats.get(t.name)?.hessian;
      return H ? sparseGptPrune(W, t.shape[0], t.shape[1], H, target, params) : magnitudePrune(W, t.shape[0], t.shape[1], target);
    }, (name) => stats.get(name)?.sqSum);
  },
});
