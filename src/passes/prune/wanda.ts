// Wanda (Sun et al., 2023): score each weight by |W_ij| * ||X_j||, its magnitude times the calibration norm of
// the input it multiplies, and remove the smallest scores within each output row (the paper's comparison
// group), or the M - N smallest of each group of M inputs under N:M. No weight update.
import type { LinearStats } from '../calibration';
import { definePass } from '../pass';
import { linearStats } from '../quant/common';
import { applyMask, PruneParams, pruneTensors, selectMask, type PruneTarget } from './common';
import { magnitudePrune } from './magnitude';

/** Wanda on one [rows, cols] matrix given the per-input sums of squares of its calibration inputs. */
export function wandaPrune(W: Float32Array, rows: number, cols: number, sqSum: ArrayLike<number>, target: PruneTarget): Float32Array {
  const norm = Float64Array.from({ length: cols }, (_, j) => Math.sqrt(sqSum[j]));
  const score = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) score[r * cols + j] = Math.abs(W[r * cols + j]) * norm[j];
  return applyMask(W, selectMask(score, rows, cols, target, 'row'));
}

export const wanda = definePass({
  id: 'wanda',
  version: 1,
  family: 'prune',
  summary: 'Wanda: prune by |w| x input activation norm within each output row (calibration data)',
  params: PruneParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('wanda needs calibration data');
    const stats: Map<string, LinearStats> = await linearStats(model, ctx.calibration, ctx);
    return pruneTensors(model, params, ctx, 'wanda', (t, W, target) => {
      const s = stats.get(t.name);
      // the embedding is a lookup with no calibration inputs: magnitude within the tensor
      return s ? wandaPrune(W, t.shape[0], t.shape[1], s.sqSum, target) : magnitudePrune(W, t.shape[0], t.shape[1], target);
    }, (name) => stats.get(name)?.sqSum);
  },
});
