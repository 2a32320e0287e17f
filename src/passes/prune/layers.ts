// Layer pruning (ShortGPT, Men et al. 2024): remove the blocks that change the residual stream least, by
// block influence 1 - cos(x_in, x_out) averaged over calibration tokens (see structured.ts). A removed
// block is exactly a block whose o_proj and down_proj add zero; the rest are renumbered.
import { z } from 'zod';
import { definePass } from '../pass';
import { removedCount, reportShrink, shrinkModel, structuredStats, topK } from './structured';

export const LayersParams = z.object({
  /** Fraction of layers removed (rounded); `count` wins when given. */
  sparsity: z.number().min(0).max(1).default(0.25),
  count: z.number().int().min(0).optional(),
});

export const layers = definePass({
  id: 'layers',
  version: 1,
  family: 'prune',
  summary: 'Structured: remove whole layers of lowest block influence (1 - cos(x_in, x_out)) on calibration data',
  params: LayersParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('layers needs calibration data');
    const L = model.config.numLayers;
    const removed = params.count ?? removedCount(L, params.sparsity, 'layers');
    if (removed >= L) throw new Error(`layers: removing ${removed} of ${L} layers leaves none`);
    const s = await structuredStats(model, ctx.calibration, ctx);
    const kept = topK(s.blockInfluence, L - removed);
    const out = shrinkModel(model, { layers: kept });
    reportShrink(ctx, 'layers', model, out, { blockInfluence: [...s.blockInfluence], kept, removed: Array.from({ length: L }, (_, i) => i).filter((i) => !kept.includes(i)) });
    return out;
  },
});
