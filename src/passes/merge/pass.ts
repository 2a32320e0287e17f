// The merge as a recipe pass: the model the recipe is applied to is "self"; every other model is a path the
// host opens lazily through ctx.models (the CLI resolves it beside the recipe file).
import { definePass } from '../pass';
import { planMerge } from './plan';
import { collectMerge } from './run';
import { MergeSpec } from './spec';
import { memoryStore } from './store';

export const SELF = 'self';

export const merge = definePass({
  id: 'merge',
  version: 1,
  family: 'merge',
  summary: 'Merge with other models of the same architecture (mergekit methods: linear, slerp, task_arithmetic, ties, dare_ties, dare_linear, passthrough)',
  params: MergeSpec,
  needsCalibration: false,
  async apply(model, params, ctx) {
    const plan = await planMerge(params, async (ref, sha256) => {
      if (ref === SELF) return memoryStore(model);
      if (!ctx.models) throw new Error(`merge: cannot open ${ref}: this host gives the pass no model loader`);
      return ctx.models(ref, sha256);
    });
    ctx.report?.({ method: params.method, tensors: plan.jobs.length, layers: plan.config.numLayers });
    return collectMerge(plan, { signal: ctx.signal, onProgress: ctx.onProgress });
  },
});
