// The recipe runner keeps a step's input (a full copy of the model) only while a later step reads it as
// its teacher. `report[k].held` lists what the runner still held while step k ran; the heal runs must give
// the same bytes as before this change (the sha256s were computed on main before it, stories260K).
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { writeLabArtifact } from '../../src/io/lab-artifact';
import type { Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { calibrationFromTokens } from '../../src/passes/calibration';
import type { Calibration } from '../../src/passes/pass';
import { inputsReadLater, runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

const recipe = (...passes: { pass: string; params?: Record<string, unknown> }[]) => parseRecipe({ schema: 'lab.recipe/1', name: 'r', passes });
const prune = { pass: 'magnitude', params: { sparsity: 0.5 } }, rtn = { pass: 'rtn', params: { dtype: 'int4_g32' } };
const short = { steps: 2, seqLen: 32, batch: 1 };

it('only teacher references keep a step input, each until its last reader', () => {
  expect(inputsReadLater(recipe(prune, rtn, { pass: 'rtn', params: { dtype: 'q8_0' } }))).toEqual(new Map());
  const mixed = recipe(prune, { pass: 'heal', params: short }, rtn, { pass: 'distill', params: short }, { pass: 'heal', params: short });
  // heal reads 'base' (step 0's input) at steps 1 and 4; distill reads 'previous' (step 2's input) at step 3
  expect(inputsReadLater(mixed)).toEqual(new Map([[0, 4], [2, 3]]));
  expect(inputsReadLater(recipe(prune, { pass: 'heal', params: { ...short, teacher: '/models/dense.gguf' } }))).toEqual(new Map());
});

describeWithShared('recipe runner memory on stories260K', [STORIES.gguf, STORIES.tinystories], () => {
  let dense: Model, calibration: Calibration;
  beforeAll(async () => {
    dense = await loadStoriesGguf();
    const tokens = createTokenizer(dense.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(200_000, 260_000));
    calibration = calibrationFromTokens(tokens, 4, 64, 1, 1, 'test');
  });
  const sha = (m: Model) => sha256OfBytes(writeLabArtifact(m));

  it('a recipe without distill or heal holds no earlier model', async () => {
    const run = await runRecipe(dense, recipe(prune, rtn, { pass: 'rtn', params: { dtype: 'q8_0' } }), { calibration });
    expect(run.report.map((r) => r.held)).toEqual([[], [], []]);
  });

  it('heal toward the base keeps only the recipe input, with the same bytes as before', async () => {
    const run = await runRecipe(dense, recipe(prune, rtn, { pass: 'heal', params: short }), { calibration });
    expect(run.report.map((r) => r.held)).toEqual([[], [0], [0]]);
    expect(run.report[2].entries[0]).toMatchObject({ pass: 'heal', teacher: dense.source.name, steps: 2 });
    expect(sha(run.model)).toBe('a6cb6ae0c666519e9b67d9b3de25b718e793f1aeeaf8c7462f92ac3aaf8914eb');
  });

  it('heal toward the previous step keeps only that step input (the pruned model), with the same bytes as before', async () => {
    const run = await runRecipe(dense, recipe(prune, rtn, { pass: 'heal', params: { ...short, teacher: 'previous' } }), { calibration });
    expect(run.report.map((r) => r.held)).toEqual([[], [], [1]]);
    expect(sha(run.model)).toBe('203a269e979b80d054aad0a6641a94513b90912651f72dbe8f3caf0a50baf1eb');
    const healedFromBase = await runRecipe(dense, recipe(prune, rtn, { pass: 'heal', params: short }), { calibration });
    expect(sha(run.model)).not.toBe(sha(healedFromBase.model));
  });
});
