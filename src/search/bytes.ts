// Bytes of a recipe's output without running it, where the passes allow: a quantizer's plan says every
// tensor's dtype (quantPlan, fallbacks included), an unstructured pruner writes its tensors as f32, and
// mixed precision stays within its budget. Passes this does not know (merge, distill, structured pruning)
// give undefined: the search then runs the recipe and counts the bytes it wrote.
import { byteSize } from '../model/dtype';
import type { Model } from '../model/model';
import { numel, type Tensor } from '../model/tensor';
import { passes } from '../passes/index';
import { PruneParams, prunePlan } from '../passes/prune/common';
import { quantPlan, TargetParams } from '../passes/quant/common';
import type { NormalizedRecipe } from '../recipe/schema';

const QUANTIZERS = new Set(['rtn', 'hqq', 'gptq', 'awq']);
const PRUNERS = new Set(['magnitude', 'wanda', 'sparsegpt']);

export function recipeBytes(model: Model, recipe: NormalizedRecipe): number | undefined {
  // a shadow of the model: shapes and dtypes only, which is all the plans read
  let tensors = new Map(model.tensors);
  let upperBound: number | undefined;
  for (const step of recipe.passes) {
    const next = new Map(tensors);
    const shadow: Model = { ...model, tensors };
    if (QUANTIZERS.has(step.pass)) {
      for (const [name, dtype] of quantPlan(shadow, TargetParams.parse(step.params))) next.set(name, { ...tensors.get(name)!, dtype });
    } else if (PRUNERS.has(step.pass)) {
      for (const name of prunePlan(shadow, PruneParams.parse(step.params)).plan.keys()) next.set(name, { ...tensors.get(name)!, dtype: 'f32' });
    } else if (step.pass === 'mixed') {
      upperBound = Math.min(upperBound ?? Infinity, (step.params as { budget: number }).budget);
    } else if (passes[step.pass]) {
      return undefined;
    }
    tensors = next;
  }
  const bytes = [...tensors.values()].reduce((s: number, t: Tensor) => s + byteSize(t.dtype, numel(t.shape)), 0);
  return upperBound === undefined ? bytes : Math.min(bytes, upperBound);
}
