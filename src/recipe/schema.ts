// A recipe: an ordered list of passes with their parameters, plus how calibration data is drawn.
// Versioned; every pass's parameters are validated by that pass's own schema, defaults filled in, so the
// normalized recipe (and its hash) says exactly what ran.
import { z } from 'zod';
import { passes, type PassId } from '../passes/index';

export const Calibration = z.object({
  /** A task of static/tasks whose text is drawn from (a loglikelihood_rolling task), or a file path (CLI). */
  source: z.string().default('tinystories'),
  sequences: z.number().int().positive().max(4096).default(32),
  length: z.number().int().min(8).max(8192).default(128),
  seed: z.number().int().default(1),
  /** Draw from the second half of the text, so the first half stays free for evaluation. */
  half: z.enum(['first', 'second', 'all']).default('second'),
});

const Step = z.object({
  pass: z.string(),
  params: z.record(z.string(), z.unknown()).default({}),
});

export const Recipe = z.object({
  schema: z.literal('lab.recipe/1'),
  name: z.string().min(1),
  description: z.string().default(''),
  calibration: Calibration.default(Calibration.parse({})),
  passes: z.array(Step).min(1),
});
export type Recipe = z.output<typeof Recipe>;

export interface NormalizedStep {
  pass: PassId;
  version: number;
  params: Record<string, unknown>;
}

/** Validate a recipe and every step's parameters; errors name the step and the field. */
export type NormalizedRecipe = Omit<Recipe, 'passes'> & { passes: NormalizedStep[] };

export function parseRecipe(json: unknown, source = 'recipe'): NormalizedRecipe {
  const r = Recipe.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const steps = r.data.passes.map((step, k): NormalizedStep => {
    const pass = passes[step.pass as PassId];
    if (!pass) throw new Error(`${source}: passes.${k}: unknown pass "${step.pass}" (known: ${Object.keys(passes).join(', ')})`);
    const p = pass.params.safeParse(step.params);
    if (!p.success) {
      const i = p.error.issues[0];
      throw new Error(`${source}: passes.${k} (${step.pass}): ${i.path.join('.') || '(params)'}: ${i.message}`);
    }
    return { pass: step.pass as PassId, version: pass.version, params: p.data as Record<string, unknown> };
  });
  return { ...r.data, passes: steps };
}
