// What `lab predict` and `lab search` share: the base model and its sha256, the text of a perplexity task
// (the first chunks evaluate, the second half calibrates and probes, as #4's tables do), the predictor's
// base signals, the full evaluation (perplexity on the first --chunks chunks), and the JSON stores.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dirSource } from '../node/data-source';
import { modelFileSet } from '../node/files';
import { jsonFileStore } from '../node/json-store';
import { DEFAULT_DATA_DIR, RECIPES_DIR } from '../node/paths';
import { loadTaskLibrary } from '../node/tasks';
import { loadDocs } from '../src/eval/data-formats';
import { perplexity } from '../src/eval/perplexity';
import { sha256Hex } from '../src/io/hash';
import { canonicalJson } from '../src/recipe/canonical';
import type { Model } from '../src/model/model';
import { calibrationFromTokens } from '../src/passes/calibration';
import type { Calibration } from '../src/passes/pass';
import { prepareBase, type BaseSignals } from '../src/predict/signals';
import type { JsonStore } from '../src/predict/records';
import { Calibration as CalibrationSpec, parseRecipe, type NormalizedRecipe } from '../src/recipe/schema';
import { CpuRuntime } from '../src/runtime/cpu-reference';
import { endProgress, progressLine, UsageError } from './command';
import { openModel, tokenizerOf } from './load';

export const DEFAULT_RECORDS = '.lab/predict-records.json';

export interface PredictSetup {
  model: Model;
  baseId: string;
  task: string;
  calibration: Calibration;
  /** Calibration as a recipe's own block asks (sequences, length, seed, half) from the task's text; the default is `calibration` itself. */
  calibrationFor(spec: NormalizedRecipe['calibration']): Calibration;
  signals: BaseSignals;
  /** Full evaluation: the relative perplexity increase on the task's first chunks ("<task>:ppl"). */
  evaluate(m: Model, signal?: AbortSignal): Promise<Record<string, number>>;
  records: JsonStore;
}

export async function predictSetup(
  modelPath: string | undefined, o: { task: string; dataDir?: string; chunks: number; records?: string; signal: AbortSignal },
): Promise<PredictSetup> {
  const model = await openModel(modelPath, o.signal);
  const files = modelFileSet(modelPath!);
  const [main] = [...files.values()].sort((a, b) => b.size - a.size);
  const baseId = await sha256Hex(main, o.signal);
  const task = loadTaskLibrary().get(o.task);
  if (!task || task.output_type !== 'loglikelihood_rolling') throw new UsageError(`--task ${o.task}: not a perplexity task of static/tasks (e.g. tinystories, wikitext2)`);
  const dataDir = o.dataDir ?? DEFAULT_DATA_DIR;
  if (!existsSync(dataDir)) throw new UsageError(`data folder ${dataDir} not found; pass --data DIR`);
  const tok = tokenizerOf(model);
  const text = (await loadDocs(dirSource(dataDir), task.data)).map((d) => String(d.text ?? '')).join('\n\n').replace(/\r\n/g, '\n');
  const tokens = tok.encode(text);
  const half = Math.floor(tokens.length / 2);
  const c = CalibrationSpec.parse({});
  const calibration = calibrationFromTokens(tokens.slice(half), c.sequences, c.length, c.seed, tok.bosId, `${o.task} (second half)`);
  const probe = calibrationFromTokens(tokens.slice(half), 2, 256, c.seed + 6, tok.bosId, `${o.task} (second half, probe)`);
  const signals = await prepareBase(model, calibration, probe, { signal: o.signal, onProgress: progressLine });
  endProgress();
  const ctx = Math.min(task.context_length, 512);
  const ppl = async (m: Model, signal?: AbortSignal) =>
    (await perplexity(new CpuRuntime(m, { maxPositions: ctx }), tokens, { contextLength: ctx, maxChunks: o.chunks, bosId: tok.bosId, signal })).ppl;
  const basePpl = await ppl(model, o.signal);
  return {
    model, baseId, task: o.task, calibration, signals,
    calibrationFor(spec) {
      if (canonicalJson(spec) === canonicalJson(c)) return calibration;
      const pool = spec.half === 'second' ? tokens.slice(half) : spec.half === 'first' ? tokens.slice(0, half) : tokens;
      return calibrationFromTokens(pool, spec.sequences, spec.length, spec.seed, tok.bosId, `${o.task} (${spec.half} half)`);
    },
    evaluate: async (m, signal) => ({ [`${o.task}:ppl`]: (await ppl(m, signal)) / basePpl - 1 }),
    records: jsonFileStore(o.records ?? DEFAULT_RECORDS),
  };
}

/** A recipe from a file or a name in static/recipes. */
export function readRecipe(name: string): NormalizedRecipe {
  const path = existsSync(name) ? name : resolve(RECIPES_DIR, `${name}.json`);
  if (!existsSync(path)) throw new UsageError(`recipe "${name}" is neither a file nor one of static/recipes`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message})`);
  }
  return parseRecipe(json, path);
}
