// A healed model's identity: the compressed model's recipe with the Lab's heal appended (settings, backend,
// the checkpoint it resumed from), so its recipe hash differs from the recipe's and from other heals', and the
// same heal names the same hash. A recipe runner refuses the step by name (it is not the recipe `heal` pass).
import { expect, it } from 'vitest';
import { healedRecipe } from '../../src/lab/train';
import { recipeHash } from '../../src/recipe/hash';
import { parseRecipe } from '../../src/recipe/schema';

const BASE = 'a'.repeat(64);
const recipe = parseRecipe({ schema: 'lab.recipe/1', name: 'q4', passes: [{ pass: 'rtn', params: { dtype: 'q4_0' } }] });
const cpu = { backend: 'cpu' as const, resumedFrom: null };

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
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, { backend: 'webgpu', resumedFrom: null }),
    healedRecipe(recipe, { steps: 8, lr: 5e-4 }, { backend: 'cpu', resumedFrom: 4 }),
    healedRecipe(h, { steps: 8, lr: 5e-4 }, cpu),
  ];
  expect(new Set(variants.map(hash)).size).toBe(variants.length);
  // the same heal is the same identity; how often it checkpointed is not part of it
  expect(hash(healedRecipe(recipe, { steps: 8, lr: 5e-4, checkpointEvery: 2 }, cpu))).toBe(hash(h));
  expect(() => parseRecipe(h)).toThrow(/passes\.1: unknown pass "lab-heal"/);
});
