// A healed model's identity: the compressed model's recipe with the Lab's heal appended (settings, trainer, and
// the stretches of a resumed heal whose schedule or trainer changed), so its recipe hash differs from the
// recipe's and from other heals', and the same weights name the same hash: a resume that changes nothing is
// the uninterrupted heal. A recipe runner refuses the step by name (it is not the recipe `heal` pass).
import { expect, it } from 'vitest';
import { appendRun, healedRecipe, type HealRun } from '../../src/lab/train';
import { recipeHash } from '../../src/recipe/hash';
import { parseRecipe } from '../../src/recipe/schema';

const BASE = 'a'.repeat(64);
const recipe = parseRecipe({ schema: 'lab.recipe/1', name: 'q4', passes: [{ pass: 'rtn', params: { dtype: 'q4_0' } }] });
const cpu = { runs: [{ fromStep: 0, steps: 8, backend: 'cpu' }] satisfies HealRun[] };
/** The runs of a heal stopped at `at` (toward `first` steps in all) and resumed toward `then`, on `backends`. */
const resumed = (at: number, first: number | null, then: number, backends: HealRun['backend'][] = ['cpu', 'cpu']) => ({
  runs: appendRun([{ fromStep: 0, steps: first, backend: backends[0] }], { fromStep: at, steps: then, backend: backends[1] }),
});

it('appends the heal with its settings; each setting that changes the weights changes the hash', () => {
  const h = healedRecipe(recipe, { steps: 8, lr: 5e-4 }, cpu);
  expect(h.name).toBe('q4+heal');
  expect(h.passes.map((p) => p.pass)).toEqual(['rtn', 'lab-heal']);
  expect(h.passes[1].params).toEqual({ steps: 8, lr: 5e-4, seqLen: 32, batch: 2, seed: 0, teacher: 'base', data: 'tinystories, first half', backend: 'cpu' });
  expect(recipe.passes).toHaveLength(1); // the compressed model's recipe is left as it was

  const hash = (r: typeof recipe) => recipeHash(BASE, r);
  const variants = [
    recipe,
    h,
    healedRecipe(recipe, { steps: 12, lr: 5e-4 }, cpu),
    healedRecipe(recipe, { steps: 8, lr: 1e-3 }, cpu),
    healedRecipe(recipe, { steps: 8, lr: 5e-4, seqLen: 64 }, cpu),
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, { runs: [{ fromStep: 0, steps: 8, backend: 'webgpu' }] }),
    // resumed at step 4 toward 8: first run toward 6 (cosine to 6, then to 8), toward 4, unknown, on the GPU first
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, resumed(4, 6, 8)),
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, resumed(4, 4, 8)),
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, resumed(4, null, 8, [null, 'cpu'])),
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, resumed(4, 8, 8, ['webgpu', 'cpu'])),
    healedRecipe(h, { steps: 8, lr: 5e-4 }, cpu),
  ];
  expect(new Set(variants.map(hash)).size).toBe(variants.length);
  // the same heal is the same identity; how often it checkpointed is not part of it
  expect(hash(healedRecipe(recipe, { steps: 8, lr: 5e-4, checkpointEvery: 2 }, cpu))).toBe(hash(h));
  // a resume toward the same total on the same trainer is bit-identical to not stopping: the same identity
  expect(resumed(4, 8, 8).runs).toEqual(cpu.runs);
  expect(hash(healedRecipe(recipe, { steps: 8, lr: 5e-4 }, resumed(4, 8, 8)))).toBe(hash(h));
  expect(healedRecipe(recipe, { steps: 8, lr: 5e-4 }, resumed(4, 6, 8)).passes[1].params).toMatchObject({
    runs: [{ fromStep: 0, steps: 6, backend: 'cpu' }, { fromStep: 4, steps: 8, backend: 'cpu' }],
  });
  expect(() => parseRecipe(h)).toThrow(/passes\.1: unknown pass "lab-heal"/);
});
