import { describe, expect, it } from 'vitest';
import { allocate, type PlanOption } from '../../src/passes/quant/mixed-precision';

/** Deterministic uniform numbers in [0, 1). */
function uniform(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Options like real ones: more bytes, less cost, with diminishing returns and some noise (non-convex). */
function randomOptions(tensors: number, perTensor: number, next: () => number): Map<string, PlanOption[]> {
  return new Map(Array.from({ length: tensors }, (_, t) => {
    const params = 256 * (1 + Math.floor(next() * 8)), sensitivity = next() ** 2;
    const bits = [3, 4, 4.5, 5, 6, 8.5].slice(0, perTensor);
    return [`t${t}`, bits.map((b) => ({ dtype: 'int4_g32' as const, bytes: (params * b) / 8, cost: sensitivity * 2 ** -b * (0.8 + 0.4 * next()) }))];
  }));
}

/** The true optimum by enumeration (small instances only). */
function bruteForce(options: Map<string, PlanOption[]>, fixed: number, budget: number): number {
  const lists = [...options.values()];
  let best = Infinity;
  const walk = (i: number, bytes: number, cost: number) => {
    if (bytes > budget) return;
    if (i === lists.length) { best = Math.min(best, cost); return; }
    for (const o of lists[i]) walk(i + 1, bytes + o.bytes, cost + o.cost);
  };
  walk(0, fixed, 0);
  return best;
}

describe('mixed-precision allocator', () => {
  it('never exceeds the budget, and refuses a budget below the smallest plan', () => {
    const next = uniform(1);
    for (let trial = 0; trial < 200; trial++) {
      const options = randomOptions(2 + Math.floor(next() * 30), 2 + Math.floor(next() * 5), next);
      const min = [...options.values()].reduce((s, o) => s + Math.min(...o.map((x) => x.bytes)), 0);
      const max = [...options.values()].reduce((s, o) => s + Math.max(...o.map((x) => x.bytes)), 0);
      const fixed = Math.floor(next() * 1000), budget = fixed + min + next() * (max - min);
      const plan = allocate(options, fixed, budget);
      const bytes = fixed + plan.rows.reduce((s, r) => s + r.bytes, 0);
      expect(plan.bytes).toBe(bytes);
      expect(bytes).toBeLessThanOrEqual(budget);
      expect(plan.rows.map((r) => r.tensor)).toEqual([...options.keys()]);
      expect(() => allocate(options, fixed, fixed + min - 1)).toThrow(/below the smallest plan/);
    }
  });

  it('spends bits where sensitivity is high: same sizes, the sensitive tensor gets the wider dtype', () => {
    const opts = (s: number): PlanOption[] => [
      { dtype: 'int3_g32', bytes: 400, cost: 8 * s },
      { dtype: 'int4_g32', bytes: 500, cost: 3 * s },
      { dtype: 'int8_g64', bytes: 850, cost: 0.1 * s },
    ];
    const options = new Map([['quiet', opts(0.01)], ['loud', opts(1)], ['middling', opts(0.1)]]);
    const at = (budget: number) => Object.fromEntries(allocate(options, 0, budget).rows.map((r) => [r.tensor, r.dtype]));
    expect(at(1200)).toEqual({ quiet: 'int3_g32', loud: 'int3_g32', middling: 'int3_g32' });
    expect(at(1300)).toEqual({ quiet: 'int3_g32', loud: 'int4_g32', middling: 'int3_g32' });
    expect(at(1650)).toEqual({ quiet: 'int3_g32', loud: 'int8_g64', middling: 'int3_g32' });
    expect(at(1750)).toEqual({ quiet: 'int3_g32', loud: 'int8_g64', middling: 'int4_g32' });
    expect(at(2550)).toEqual({ quiet: 'int8_g64', loud: 'int8_g64', middling: 'int8_g64' });
  });

  it('is within one upgrade of the optimum: cost <= the best plan of (budget - largest step) bytes', () => {
    const next = uniform(7);
    for (let trial = 0; trial < 60; trial++) {
      const options = randomOptions(5, 4, next);
      const min = [...options.values()].reduce((s, o) => s + o[0].bytes, 0);
      const max = [...options.values()].reduce((s, o) => s + o[o.length - 1].bytes, 0);
      const budget = min + next() * (max - min);
      const step = Math.max(...[...options.values()].map((o) => o[o.length - 1].bytes - o[0].bytes));
      const plan = allocate(options, 0, budget);
      expect(plan.predictedCost).toBeLessThanOrEqual(bruteForce(options, 0, budget - step) + 1e-12);
      expect(plan.predictedCost).toBeGreaterThanOrEqual(bruteForce(options, 0, budget) - 1e-12);
    }
  });
});
