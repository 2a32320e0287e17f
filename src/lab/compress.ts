// A recipe run in the lab: validate it, draw calibration text from its task when a pass needs it, apply the
// passes with progress and cancel. What `lab compress` does in the CLI, with the browser's data source.
import type { DataSource } from '../eval/data-source';
import { loadDocs } from '../eval/data-formats';
import type { Model } from '../model/model';
import type { Tokenizer } from '../model/tokenizer/spec';
import { calibrationFromTokens } from '../passes/calibration';
import { passes } from '../passes/index';
import type { Calibration } from '../passes/pass';
import { runRecipe, type RecipeRun } from '../recipe/runner';
import { parseRecipe, type NormalizedRecipe } from '../recipe/schema';
import { taskLibrary } from './catalog';

export interface Progress { stage: string; done: number; total: number }

/** Calibration windows as the recipe asks: text of a task of the library, tokenized, seeded windows. */
export async function recipeCalibration(recipe: NormalizedRecipe, tok: Tokenizer, data: DataSource): Promise<Calibration> {
  const c = recipe.calibration;
  const task = taskLibrary().get(c.source);
  if (!task) throw new Error(`calibration source "${c.source}" is not a task of the library (known: ${[...taskLibrary().keys()].join(', ')})`);
  const text = (await loadDocs(data, task.data)).map((d) => String(d.text ?? '')).join('\n\n').replace(/\r\n/g, '\n');
  const tokens = tok.encode(text);
  const half = Math.floor(tokens.length / 2);
  const pool = c.half === 'second' ? tokens.slice(half) : c.half === 'first' ? tokens.slice(0, half) : tokens;
  return calibrationFromTokens(pool, c.sequences, c.length, c.seed, tok.bosId, `${c.source} (${c.half} half)`);
}

export async function compressModel(
  model: Model, tok: Tokenizer, recipeJson: unknown, data: DataSource,
  opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<{ recipe: NormalizedRecipe; run: RecipeRun }> {
  const recipe = parseRecipe(recipeJson, 'recipe');
  const needs = recipe.passes.some((s) => passes[s.pass].needsCalibration);
  if (needs) opts.onProgress?.({ stage: 'reading calibration text', done: 0, total: 1 });
  const calibration = needs ? await recipeCalibration(recipe, tok, data) : undefined;
  const run = await runRecipe(model, recipe, { calibration, signal: opts.signal, onProgress: opts.onProgress });
  return { recipe, run };
}
