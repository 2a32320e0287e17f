// What a prediction costs against the evaluation it stands for, on stories260K (CPU reference): the one-off
// per-base signals (calibration Gram matrices, probe distributions, per-layer sensitivity), then per
// candidate the features (a 2 x 256-token probe forward plus weight and output errors) against the full
// TinyStories evaluation (perplexity over the whole first half of valid_a, llama.cpp protocol, 512-token
// chunks; the second half is where calibration and probe come from) and against the 8-chunk slice the
// tests measure. Prints a table and writes bench/results/predict-<date>.json.
//   node --import ./node/register.mjs bench/cli/predict.ts [--full-chunks N]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSetFromPath } from '../node/files';
import { perplexity } from '../src/eval/perplexity';
import { loadModel } from '../src/io/load';
import type { Model } from '../src/model/model';
import { createTokenizer } from '../src/model/tokenizer/index';
import { calibrationFromTokens } from '../src/passes/calibration';
import { bootstrapRecipes } from '../src/predict/bootstrap';
import { candidateFeatures } from '../src/predict/features';
import { prepareBase } from '../src/predict/signals';
import { runRecipe } from '../src/recipe/runner';
import { CpuRuntime } from '../src/runtime/cpu-reference';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.SHARED_DIR ?? resolve(REPO, '../shared');
const CANDIDATES = ['gptq int4', 'rtn int3', 'wanda 50%'];

export async function benchPredict(opts: { fullChunks?: number } = {}): Promise<object> {
  const base = await loadModel(fileSetFromPath(resolve(SHARED, 'models/stories260K/stories260K.gguf')));
  const tokens = createTokenizer(base.tokenizer!).encode(readFileSync(resolve(SHARED, 'data/tinystories/valid_a.txt'), 'utf8'));
  const half = Math.floor(tokens.length / 2);
  const calibration = calibrationFromTokens(tokens.slice(half), 32, 128, 1, base.config.bosTokenId, 'valid_a.txt second half');
  const probe = calibrationFromTokens(tokens.slice(half), 2, 256, 7, base.config.bosTokenId, 'valid_a.txt second half (probe)');
  const fullChunks = opts.fullChunks ?? Math.floor(half / 512);
  const ppl = async (m: Model, chunks: number) => {
    const t = performance.now();
    await perplexity(new CpuRuntime(m, { maxPositions: 512 }), tokens.slice(0, half), { contextLength: 512, maxChunks: chunks, bosId: base.config.bosTokenId });
    return (performance.now() - t) / 1000;
  };

  let t = performance.now();
  const signals = await prepareBase(base, calibration, probe);
  const perBaseSeconds = (performance.now() - t) / 1000;
  const rows: { recipe: string; compressSeconds: number; featureSeconds: number; sliceSeconds: number; fullSeconds: number }[] = [];
  for (const recipe of bootstrapRecipes(base).filter((r) => CANDIDATES.includes(r.name))) {
    t = performance.now();
    const { model } = await runRecipe(base, recipe, { calibration });
    const compressSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    await candidateFeatures(signals, model, { probe: true });
    const featureSeconds = (performance.now() - t) / 1000;
    const sliceSeconds = await ppl(model, 8);
    // the full evaluation is timed on the first candidate only: it is the same forward work for every one
    const fullSeconds: number = rows.length ? rows[0].fullSeconds : await ppl(model, fullChunks);
    rows.push({ recipe: recipe.name, compressSeconds, featureSeconds, sliceSeconds, fullSeconds });
  }
  const mean = (k: 'featureSeconds' | 'sliceSeconds') => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const full = rows[0].fullSeconds, features = mean('featureSeconds'), slice = mean('sliceSeconds');
  console.log(`predictor cost on stories260K (CPU reference); per-base signals once: ${perBaseSeconds.toFixed(1)} s`);
  console.log(`${'candidate'.padEnd(12)} ${'compress (s)'.padStart(12)} ${'features (s)'.padStart(12)} ${'8 chunks (s)'.padStart(12)} ${`full ${fullChunks} chunks (s)`.padStart(20)}`);
  for (const r of rows) console.log(`${r.recipe.padEnd(12)} ${r.compressSeconds.toFixed(2).padStart(12)} ${r.featureSeconds.toFixed(2).padStart(12)} ${r.sliceSeconds.toFixed(2).padStart(12)} ${r.fullSeconds.toFixed(1).padStart(20)}`);
  const ratio = features / full;
  console.log(`prediction / full evaluation: ${(100 * ratio).toFixed(2)}% (goal <= 5%); / 8-chunk slice: ${(100 * features / slice).toFixed(1)}%`);
  const result = { bench: 'predict', date: new Date().toISOString(), model: 'stories260K', device: 'cpu-reference', perBaseSeconds, fullChunks, rows, ratioToFull: ratio, ratioToSlice: features / slice };
  const file = resolve(REPO, `bench/results/predict-${result.date.slice(0, 10)}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  return result;
}
