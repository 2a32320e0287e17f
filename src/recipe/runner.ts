// Applies a recipe's passes in order. Deterministic: passes are pure and seeded, so the same recipe on
// the same base gives the same tensors (and so the same artifact bytes).
import { throwIfAborted } from '../io/errors';
import type { Model } from '../model/model';
import { passes } from '../passes/index';
import type { Calibration, PassContext } from '../passes/pass';
import type { ModelResolver } from '../passes/merge/plan';
import type { NormalizedRecipe } from './schema';

export interface RecipeRun {
  model: Model;
  /** Per pass: its id and what it reported (plans, per-tensor errors). */
  report: { pass: string; seconds: number; entries: Record<string, unknown>[] }[];
}

export async function runRecipe(
  model: Model, recipe: NormalizedRecipe,
  opts: {
    calibration?: Calibration; signal?: AbortSignal; onProgress?: (p: { stage: string; done: number; total: number }) => void;
    /** Opens the other models a merge step references. */
    models?: ModelResolver;
  } = {},
): Promise<RecipeRun> {
  const report: RecipeRun['report'] = [];
  let current = model;
  const earlier: Model[] = [];
  for (const [k, step] of recipe.passes.entries()) {
    throwIfAborted(opts.signal);
    const pass = passes[step.pass];
    if (pass.needsCalibration && !opts.calibration) throw new Error(`pass ${step.pass} needs calibration data`);
    const entries: Record<string, unknown>[] = [];
    const ctx: PassContext = {
      calibration: opts.calibration, signal: opts.signal, report: (e) => entries.push(e), models: opts.models, earlier: [...earlier],
      onProgress: (p) => opts.onProgress?.({ ...p, stage: `${k + 1}/${recipe.passes.length} ${step.pass}: ${p.stage}` }),
    };
    const t0 = performance.now();
    earlier.push(current);
    current = await pass.apply(current, step.params as never, ctx);
    report.push({ pass: step.pass, seconds: (performance.now() - t0) / 1000, entries });
  }
  return { model: current, report };
}
