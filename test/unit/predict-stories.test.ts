// The predictor on stories260K: 22 recipes (every method at 2/3/4/8 bits, group sizes, pruning methods and
// levels, a prune-then-quantize pipeline, hand-made mixes) are run, their cheap features computed (one 2 x 256
// token probe forward each) and their perplexity measured on TinyStories valid_a (4 chunks x 512, llama.cpp
// protocol, 1020 scored tokens). Quality is judged held out: each recipe is predicted by a predictor fitted
// on the other 21 only. How much cheaper than a full evaluation the features are is `npm run bench`'s job.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonFileStore } from '../../node/json-store';
import { mean } from '../../src/eval/stats';
import { modelBytes, type Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { calibrationFromTokens } from '../../src/passes/calibration';
import { bootstrapRecipes } from '../../src/predict/bootstrap';
import { candidateFeatures, PROBE_FEATURES, STATIC_FEATURES } from '../../src/predict/features';
import { fitPredictor, heldOut } from '../../src/predict/predictor';
import { spearman } from '../../src/predict/rank';
import { addRecord, deltasFromResults, loadRecords, type PredictRecord } from '../../src/predict/records';
import type { Result } from '../../src/eval/result';
import { fitRidge, predictLinear } from '../../src/predict/ridge';
import { prepareBase, type BaseSignals } from '../../src/predict/signals';
import { recipeHash } from '../../src/recipe/hash';
import { runRecipe } from '../../src/recipe/runner';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { scoreTokens } from '../per-token';
import { loadStoriesGguf } from '../stories';

const CTX = 512, CHUNKS = 4, BASE = 'stories260K.gguf';

describe('predictor building blocks', () => {
  it('spearman: ties share ranks; perfect, reversed and unrelated orders', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    expect(spearman([1, 1, 2, 2], [5, 5, 6, 6])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    expect(() => spearman([1], [1])).toThrow(/two pairs/);
  });

  it('deltas from two Results: relative ppl increase, metric drops, KLD; tasks the base lacks are left out', () => {
    const task = (name: string, metrics: Record<string, number>) => ({ task: name, metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { value: v, stderr: 0 }])) });
    const base = { tasks: [task('tinystories', { perplexity: 4, nll: 1.386 }), task('arc_easy', { acc: 0.5, acc_norm: 0.6 })], distribution: null } as unknown as Result;
    const cand = { tasks: [task('tinystories', { perplexity: 4.2, nll: 1.435 }), task('arc_easy', { acc: 0.45, acc_norm: 0.61 }), task('piqa', { acc: 0.6 })], distribution: { kldMean: 0.03 } } as unknown as Result;
    const d = deltasFromResults(base, cand);
    expect(Object.keys(d).sort()).toEqual(['arc_easy:acc', 'arc_easy:acc_norm', 'kld', 'tinystories:ppl']);
    expect(d['tinystories:ppl']).toBeCloseTo(0.05, 12);
    expect(d['arc_easy:acc']).toBeCloseTo(0.05, 12);
    expect(d['arc_easy:acc_norm']).toBeCloseTo(-0.01, 12);
    expect(d.kld).toBe(0.03);
  });

  it('ridge recovers a known linear relation, and the conformal interval needs enough records', () => {
    const X = Array.from({ length: 20 }, (_, i) => [i, (i * 7) % 5]);
    const m = fitRidge(X, X.map(([a, b]) => 3 + 2 * a - b), 0);
    expect(predictLinear(m, [30, 1])).toBeCloseTo(62, 8);
    const rec = (i: number): PredictRecord => ({ schema: 'lab.predict-record/1', base: 'b', recipeHash: `r${i}`, label: '', bytes: 1, features: { probeKld: 0.01 * (i + 1) }, measured: { 'x:ppl': 0.02 * (i + 1) } });
    expect(() => fitPredictor([0, 1, 2].map(rec), { target: 'x:ppl', features: ['probeKld'] })).toThrow(/3 usable records, need at least 4/);
    const p = fitPredictor([0, 1, 2, 3, 4].map(rec), { target: 'x:ppl', features: ['probeKld'] });
    expect(() => p.predict({})).toThrow(/feature "probeKld" is missing/);
    // 5 records at 90%: ceil(6 * 0.9) = 6 > 5 residuals, so the honest interval is unbounded
    expect(p.predict({ probeKld: 0.03 }).hi).toBe(Infinity);
  });
});

describeWithShared('predicting quality loss on stories260K', [STORIES.gguf, STORIES.tinystories], () => {
  let base: Model, signals: BaseSignals;
  const records: PredictRecord[] = [];

  beforeAll(async () => {
    base = await loadStoriesGguf();
    const tokens = createTokenizer(base.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8'));
    // evaluation reads the first chunks; calibration and the probe come from the second half of the file
    const half = Math.floor(tokens.length / 2);
    const calibration = calibrationFromTokens(tokens.slice(half), 32, 128, 1, base.config.bosTokenId, 'valid_a.txt second half');
    const probe = calibrationFromTokens(tokens.slice(half), 2, 256, 7, base.config.bosTokenId, 'valid_a.txt second half (probe)');
    signals = await prepareBase(base, calibration, probe);
    const f32 = scoreTokens(base, tokens, CTX, CHUNKS);
    for (const recipe of bootstrapRecipes(base)) {
      const { model } = await runRecipe(base, recipe, { calibration });
      const features = await candidateFeatures(signals, model, { probe: true });
      const s = scoreTokens(model, tokens, CTX, CHUNKS, f32.logprobs);
      records.push({
        schema: 'lab.predict-record/1', base: BASE, recipeHash: recipeHash('0'.repeat(64), recipe), label: recipe.name,
        bytes: modelBytes(model), features, measured: { 'tinystories:ppl': s.ppl / f32.ppl - 1, kld: mean(s.kld) },
      });
    }
  }, 600_000);

  it('per-layer sensitivity: every layer measurably moves the output at the reference dtype', () => {
    expect(signals.groups.map((g) => g.name)).toEqual(['embedding', 'output', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'layer 4']);
    for (const g of signals.groups) {
      expect(g.kld, g.name).toBeGreaterThan(1e-3);
      expect(g.relError, g.name).toBeGreaterThan(0);
    }
  });

  it('held out: Spearman >= 0.9 between predicted and measured ppl increase over >= 20 recipes, interval coverage reported', () => {
    expect(new Set(records.map((r) => r.recipeHash)).size).toBeGreaterThanOrEqual(20);
    const ppl = heldOut(records, { target: 'tinystories:ppl', features: PROBE_FEATURES });
    const kld = heldOut(records, { target: 'kld', features: PROBE_FEATURES });
    const staticOnly = heldOut(records, { target: 'tinystories:ppl', features: STATIC_FEATURES });
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`.padStart(9);
    console.log([
      `stories260K, ${records.length} recipes; measured on TinyStories valid_a ${CHUNKS} x ${CTX}; features ${PROBE_FEATURES.join(' + ')} (probe ${signals.probe.chunks.length} x ${signals.probe.contextLength} tokens); leave-one-out`,
      `${'recipe'.padEnd(34)} ${'bytes'.padStart(8)} ${'measured'.padStart(9)} ${'predicted'.padStart(9)}  ${'90% interval'.padEnd(21)}`,
      ...ppl.rows.map((r, i) => `${r.label.padEnd(34)} ${String(records[i].bytes).padStart(8)} ${pct(r.measured)} ${pct(r.predicted)}  [${pct(r.lo)}, ${pct(r.hi)}]${r.lo <= r.measured && r.measured <= r.hi ? '' : '  miss'}`),
      `ppl increase: Spearman ${ppl.spearman.toFixed(3)}, coverage ${(ppl.coverage * 100).toFixed(0)}% (nominal ${ppl.level * 100}%)`,
      `KLD:          Spearman ${kld.spearman.toFixed(3)}, coverage ${(kld.coverage * 100).toFixed(0)}%`,
      `static features only (${STATIC_FEATURES.join(', ')}, no forward pass): ppl Spearman ${staticOnly.spearman.toFixed(3)}, coverage ${(staticOnly.coverage * 100).toFixed(0)}%`,
    ].join('\n'));
    expect(ppl.n).toBe(records.length);
    expect(ppl.spearman).toBeGreaterThanOrEqual(0.9);
    expect(kld.spearman).toBeGreaterThanOrEqual(0.9);
    // conformal: >= 90% in expectation; with 22 records a couple of misses either way is chance
    expect(ppl.coverage).toBeGreaterThanOrEqual(0.75);
    expect(kld.coverage).toBeGreaterThanOrEqual(0.75);
    // the probe earns its cost: the static features alone rank worse
    expect(staticOnly.spearman).toBeLessThan(ppl.spearman);
  });

  it('learns from stored records: a file store round-trips them and the fit predicts the same', async () => {
    const store = jsonFileStore(join(mkdtempSync(join(tmpdir(), 'lab-predict-')), 'store.json'));
    for (const r of records) await addRecord(store, r);
    await addRecord(store, { ...records[0], measured: { other: 1 } }); // same recipe again: merged, not duplicated
    const back = await loadRecords(store, BASE);
    expect(back.length).toBe(records.length);
    expect(back[0].measured).toEqual({ ...records[0].measured, other: 1 });
    const o = { target: 'tinystories:ppl', features: PROBE_FEATURES };
    expect(fitPredictor(back, o).predict(records[5].features)).toEqual(fitPredictor(records, o).predict(records[5].features));
    expect(await loadRecords(store, 'another base')).toEqual([]);
  });
});
