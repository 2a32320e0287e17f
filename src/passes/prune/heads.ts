// Attention head pruning, respecting GQA: either whole KV groups go (each with all the query heads that read
// it, so the KV cache shrinks too), or the same number of query heads goes from every group (the KV heads
// stay). Every layer removes the same count, so the config stays a standard one; each layer picks its own
// heads by their calibration energy (see structured.ts). head_dim never changes.
import { z } from 'zod';
import { definePass } from '../pass';
import { removedCount, reportShrink, shrinkModel, structuredStats, topK, type Structure } from './structured';

export const HeadsParams = z.object({
  /** Fraction of the unit (KV groups, or query heads of each group) removed in every layer; rounded to whole units. */
  sparsity: z.number().min(0).max(1).default(0.25),
  /** 'kv-group': remove whole KV groups with their query heads; 'query': remove query heads evenly from every group. */
  unit: z.enum(['kv-group', 'query']).default('kv-group'),
});

/** Which heads each layer keeps, from the per-layer energies. */
export function headStructure(
  numHeads: number, numKvHeads: number, headEnergy: readonly ArrayLike<number>[], groupEnergy: readonly ArrayLike<number>[],
  p: z.output<typeof HeadsParams>,
): Structure {
  const group = numHeads / numKvHeads;
  if (p.unit === 'kv-group') {
    const keep = numKvHeads - removedCount(numKvHeads, p.sparsity, 'kv groups');
    const kvHeads = groupEnergy.map((e) => topK(e, keep));
    return { kvHeads, heads: kvHeads.map((gs) => gs.flatMap((g) => Array.from({ length: group }, (_, i) => g * group + i))) };
  }
  const keep = group - removedCount(group, p.sparsity, 'query heads per kv group');
  return {
    heads: headEnergy.map((e) => Array.from({ length: numKvHeads }, (_, g) => topK(Array.from({ length: group }, (_, i) => e[g * group + i]), keep).map((i) => g * group + i)).flat()),
  };
}

export const heads = definePass({
  id: 'heads',
  version: 1,
  family: 'prune',
  summary: 'Structured: remove attention heads (whole KV groups, or query heads evenly per group) by calibration energy',
  params: HeadsParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('heads needs calibration data');
    const c = model.config;
    const s = await structuredStats(model, ctx.calibration, ctx);
    const structure = headStructure(c.numHeads, c.numKvHeads, s.headEnergy, s.groupEnergy, params);
    const out = shrinkModel(model, structure);
    reportShrink(ctx, 'heads', model, out, { unit: params.unit, keptHeads: structure.heads, keptKvHeads: structure.kvHeads });
    return out;
  },
});
