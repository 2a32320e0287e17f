// Magnitude pruning: remove the weights of smallest |w| across the whole tensor (layer-wise, the classic
// baseline Wanda and SparseGPT are measured against), or the M - N smallest of each group under N:M.
import { definePass } from '../pass';
import { applyMask, PruneParams, pruneTensors, selectMask } from './common';

export function magnitudePrune(W: Float32Array, rows: number, cols: number, target: Parameters<typeof selectMask>[3]): Float32Array {
  return applyMask(W, selectMask(W.map(Math.abs), rows, cols, target, 'tensor'));
}

export const magnitude = definePass({
  id: 'magnitude',
  version: 1,
  family: 'prune',
  summary: 'Magnitude pruning: zero the smallest |w| of each tensor (or N:M), no calibration',
  params: PruneParams,
  needsCalibration: false,
  async apply(model, params, ctx) {
    return pruneTensors(model, params, ctx, 'magnitude', (t, W, target) => magnitudePrune(W, t.shape[0], t.shape[1], target));
  },
});
