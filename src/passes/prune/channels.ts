// FFN channel pruning: remove the same number of intermediate channels (rows of gate and up, columns of
// down) from every layer, each layer keeping its channels of highest calibration energy
// ||W_down[:, j]||^2 sum x_j^2 (see structured.ts). intermediate_size shrinks.
import { z } from 'zod';
import { definePass } from '../pass';
import { removedCount, reportShrink, shrinkModel, structuredStats, topK } from './structured';

export const ChannelsParams = z.object({
  /** Fraction of intermediate channels removed in every layer. */
  sparsity: z.number().min(0).max(1).default(0.25),
  /** Round the kept count down to a multiple of this (32 lets int4_g32 / q4_0 blocks fit the down projection). */
  multipleOf: z.number().int().positive().default(1),
});

/** How many channels every layer keeps. */
export function keptChannels(intermediate: number, p: z.output<typeof ChannelsParams>): number {
  const keep = Math.floor((intermediate - removedCount(intermediate, p.sparsity, 'FFN channels')) / p.multipleOf) * p.multipleOf;
  if (keep < 1) throw new Error(`channels: keeping a multiple of ${p.multipleOf} of ${intermediate} channels at sparsity ${p.sparsity} leaves none`);
  return keep;
}

export const channels = definePass({
  id: 'channels',
  version: 1,
  family: 'prune',
  summary: 'Structured: remove FFN channels (intermediate_size) by calibration energy',
  params: ChannelsParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('channels needs calibration data');
    const keep = keptChannels(model.config.intermediateSize, params);
    const s = await structuredStats(model, ctx.calibration, ctx);
    const structure = { channels: s.channelEnergy.map((e) => topK(e, keep)) };
    const out = shrinkModel(model, structure);
    reportShrink(ctx, 'channels', model, out, { kept: keep, removed: model.config.intermediateSize - keep, keptChannels: structure.channels });
    return out;
  },
});
