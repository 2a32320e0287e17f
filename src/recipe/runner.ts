// Applies a recipe's passes in order. Deterministic: passes are pure and seeded, so the same recipe on
// the same base gives the same tensors (and so the same artifact bytes). Each intermediate model is a full
// copy of the weights, so a step's input is kept after the step only when a later step reads it (a
// distillation's teacher); the rest are dropped as soon as the next step has made its output.
import { throwIfAborted } from '../io/errors';
import type { Model } from '../model/model';
import { passes } from '../passes/index';
import type { Calibration, PassContext } from '../passes/pass';
import type { ModelResolver } from '../passes/merge/plan';
import type { NormalizedRecipe } from './schema';

export interface RecipeRun {
  model: Model;
  /** Per pass: its id and what it reported (plans, per-tensor errors). */
  report: {
    pass: string; seconds: number; entries: Record<string, unknown>[];
    /** The earlier steps whose input the runner still held while this step ran (what ctx.earlier had). */
    held: number[];
  }[];
}

/**
 * Which steps' inputs a later step reads (`readsEarlier`: 'base' is step 0's input, 'previous' step k-1's),
 * each mapped to the last step that reads it, after which it can go.
 */
export function inputsReadLater(recipe: NormalizedRecipe): Map<number, number> {
  const lastReader = new Map<number, number>();
  for (const [k, step] of recipe.passes.entries()) {
    for (const ref of passes[step.pass].readsEarlier?.(step.params as never) ?? []) {
      const i = ref === 'base' ? 0 : k - 1;
      if (i >= 0 && i < k) lastReader.set(i, k);
    }
  }
  return lastReader;
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
  const lastReader = inputsReadLater(recipe);
  let current = model;
  const earlier: (Model | undefined)[] = [];
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
    const input = current;
    current = await pass.apply(input, step.params as never, ctx);
    earlier.push(lastReader.has(k) ? input : undefined);
    for (const [i, last] of lastReader) if (last === k) earlier[i] = undefined;
    const held = ctx.earlier!.flatMap((m, i) => (m ? [i] : []));
    report.push({ pass: step.pass, seconds: (performance.now() - t0) / 1000, entries, held });
  }
  return { model: current, report };
}
