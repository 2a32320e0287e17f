// Per-tensor dtypes under a byte budget from the predictor's signals, without a probe run per tensor (the
// mixed pass measures one each; here the per-layer sensitivity is already known): a tensor's cost at a dtype
// is its layer's KLD per unit of relative output error times its own relative output error after RTN at
// that dtype. The allocation itself is the mixed pass's (convex-hull greedy, src/passes/quant/mixed-precision).
import { byteSize, type DTypeId } from '../model/dtype';
import type { Model } from '../model/model';
import { numel, toFloat32 } from '../model/tensor';
import { allocate, type PlanOption } from '../passes/quant/mixed-precision';
import { castTensor, fitDType } from '../passes/quant/common';
import { tensorError, type BaseSignals } from '../predict/signals';

/** The plan as quantizer overrides (tensor -> dtype), or undefined when even the cheapest plan is over budget. */
export function allocateBySensitivity(model: Model, s: BaseSignals, dtypes: readonly DTypeId[], budget: number): Record<string, DTypeId> | undefined {
  return allocatorBySensitivity(model, s, dtypes)(budget);
}

/** allocateBySensitivity at any number of budgets: the costs (an RTN per tensor and dtype) are computed once. */
export function allocatorBySensitivity(model: Model, s: BaseSignals, dtypes: readonly DTypeId[]): (budget: number) => Record<string, DTypeId> | undefined {
  const options = new Map<string, PlanOption[]>();
  for (const g of s.groups) {
    const perUnit = g.relError > 0 ? g.kld / g.relError : 0;
    for (const name of g.tensors) {
      const t = model.tensors.get(name)!, W = toFloat32(t), H = s.stats.get(name)?.hessian;
      const fitted = [...new Set(dtypes.map((d) => fitDType(d, t.shape[1])))];
      options.set(name, fitted.map((dtype) => ({
        dtype, bytes: byteSize(dtype, numel(t.shape)),
        cost: perUnit * tensorError(W, toFloat32(castTensor(t, dtype)), t.shape, H) / s.scale.get(name)!,
      })));
    }
  }
  const fixed = [...model.tensors.values()].filter((t) => !options.has(t.name)).reduce((sum, t) => sum + t.data.byteLength, 0);
  return (budget) => {
    try {
      return Object.fromEntries(allocate(options, fixed, budget).rows.map((r) => [r.tensor, r.dtype]));
    } catch (e) {
      if (/below the smallest plan/.test((e as Error).message)) return undefined;
      throw e;
    }
  };
}
