// The recipes a search considers, in a fixed order (so a resumed search walks the same list): every method at each
// uniform dtype, one mixed-precision plan per method at the byte budget (per-tensor dtypes chosen by the predictor's
// per-layer sensitivity: see allocation.ts) or, with no budget (min-bytes with no bound), at budgets inside the gaps
// between the uniform sizes, where no uniform plan can be, and light pruning before and after a quantizer (the second
// order is in the space so that the byte check, not a rule, rules it out).
import type { DTypeId } from '../model/dtype';
import type { Model } from '../model/model';
import { parseRecipe, type NormalizedRecipe } from '../recipe/schema';
import type { BaseSignals } from '../predict/signals';
import { allocatorBySensitivity } from './allocation';
import { recipeBytes } from './bytes';

export interface SpaceOptions {
  methods?: readonly ('rtn' | 'hqq' | 'gptq' | 'awq')[];
  /** Uniform dtypes for the block linears (the embedding follows; the output layer stays 8-bit). */
  dtypes?: readonly DTypeId[];
  /** Candidate dtypes per tensor for the mixed plans. */
  mixedDtypes?: readonly DTypeId[];
  /**
   * With no byte budget: mixed plans at this many budgets inside each gap between consecutive uniform sizes
   * (geometric steps). A uniform plan that meets a min-bytes limit may have a mixed one just below it that does too.
   */
  mixedSteps?: number;
  /** Sparsity levels tried with Wanda before (and after) RTN int4. */
  sparsity?: readonly number[];
}

export const DEFAULT_SPACE: Required<SpaceOptions> = {
  methods: ['rtn', 'hqq', 'gptq', 'awq'],
  dtypes: ['int3_g32', 'q4_0', 'int4_g64', 'int4_g32', 'int8_g64'],
  mixedDtypes: ['int3_g32', 'int4_g64', 'int4_g32', 'int8_g64'],
  mixedSteps: 2,
  sparsity: [0.1],
};

const recipe = (name: string, passes: object[]) => parseRecipe({ schema: 'lab.recipe/1', name, description: 'found by lab search', passes }, name);

export function searchSpace(model: Model, signals: BaseSignals, maxBytes: number | undefined, options: SpaceOptions = {}): NormalizedRecipe[] {
  const o = { ...DEFAULT_SPACE, ...options };
  const out: NormalizedRecipe[] = [];
  for (const m of o.methods) {
    for (const d of o.dtypes) {
      const head = d.startsWith('q') ? 'q8_0' : 'int8_g64';
      out.push(recipe(`${m} ${d}`, [{ pass: m, params: { dtype: d, embedding: d, lmHead: head } }]));
    }
  }
  const budgets = maxBytes !== undefined ? [maxBytes] : gapBudgets(out.map((r) => recipeBytes(model, r)), o.mixedSteps);
  const allocateAt = budgets.length ? allocatorBySensitivity(model, signals, o.mixedDtypes) : undefined;
  for (const budget of budgets) {
    const overrides = allocateAt!(budget);
    if (overrides) {
      for (const m of o.methods) out.push(recipe(`${m} mixed <= ${budget} B`, [{ pass: m, params: { embedding: 'keep', lmHead: 'keep', overrides } }]));
    }
  }
  for (const s of o.sparsity) {
    const q = { pass: 'rtn', params: { dtype: 'int4_g32', embedding: 'int4_g32', lmHead: 'int8_g64' } }, p = { pass: 'wanda', params: { sparsity: s } };
    out.push(recipe(`wanda ${s * 100}% then rtn int4_g32`, [p, q]), recipe(`rtn int4_g32 then wanda ${s * 100}%`, [q, p]));
  }
  return out;
}

/** `steps` geometric steps strictly inside each gap between consecutive distinct sizes, ascending, whole bytes. */
export function gapBudgets(sizes: readonly (number | undefined)[], steps: number): number[] {
  const distinct = [...new Set(sizes.filter((b): b is number => b !== undefined))].sort((a, b) => a - b);
  const out: number[] = [];
  for (let i = 1; i < distinct.length; i++) {
    const lo = distinct[i - 1], ratio = distinct[i] / lo;
    for (let k = 1; k <= steps; k++) out.push(Math.round(lo * ratio ** (k / (steps + 1))));
  }
  return [...new Set(out)];
}
