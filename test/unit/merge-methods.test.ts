// Tensor-level merge methods against hand-computed results (mergekit semantics).
import { describe, expect, it } from 'vitest';
import { MERGE_METHODS } from '../../src/passes/merge/index';
import { electSign, generalizedTaskArithmetic } from '../../src/passes/merge/gta';
import { linearMerge } from '../../src/passes/merge/linear';
import type { MethodCall, MethodInput } from '../../src/passes/merge/method';
import { evaluateSetting } from '../../src/passes/merge/settings';
import { lerp, slerp } from '../../src/passes/merge/slerp';
import { bernoulliSparsify, magnitudeSparsify } from '../../src/passes/merge/sparsify';
import { seededRandom } from '../../src/runtime/sampling';

const f = (...v: number[]) => Float32Array.from(v);
const norm = (v: Float32Array) => Math.hypot(...v);
const close = (a: ArrayLike<number>, b: number[], digits = 5) => {
  expect(a.length).toBe(b.length);
  b.forEach((x, i) => expect(a[i]).toBeCloseTo(x, digits));
};

function call(method: keyof typeof MERGE_METHODS, inputs: MethodInput[], params: MethodCall['params'], baseIndex = 0, seed = 0) {
  const m = MERGE_METHODS[method];
  const defaults = Object.fromEntries(m.params.map((d) => [d.name, d.default]));
  const tensorDefaults = Object.fromEntries(m.tensorParams.map((d) => [d.name, d.default]));
  return m.merge({
    inputs: inputs.map((x) => ({ ...x, params: { ...tensorDefaults, ...x.params } })),
    baseIndex, params: { ...defaults, ...params }, tensor: 'w',
    random: (model) => seededRandom(seed * 1000 + model.length),
  });
}

describe('linear', () => {
  it('weighted average, normalized by default, raw sum without normalize', () => {
    close(linearMerge([f(1, 2), f(3, 4)], [1, 3], true), [2.5, 3.5]);
    close(linearMerge([f(1, 2), f(3, 4)], [1, 3], false), [10, 14]);
    expect(() => linearMerge([f(1), f(2)], [1, -1], true)).toThrow(/sum to 0/);
    const inputs = [{ model: 'a', values: f(1, 2), params: { weight: 1 } }, { model: 'b', values: f(3, 4), params: { weight: 3 } }];
    close(call('linear', inputs, {}), [2.5, 3.5]);
    expect(() => call('linear', [{ model: 'a', values: f(1), params: {} }], {})).toThrow(/w \(a\): parameter weight must be a number/);
  });
});

describe('slerp', () => {
  it('endpoints are the inputs; the midpoint of orthogonal unit vectors has norm 1 (lerp: 0.707)', () => {
    const v0 = f(1, 0), v1 = f(0, 1);
    expect([...slerp(0, v0, v1)]).toEqual([1, 0]);
    expect([...slerp(1, v0, v1)]).toEqual([0, 1]);
    const mid = slerp(0.5, v0, v1);
    close(mid, [Math.SQRT1_2, Math.SQRT1_2]);
    expect(norm(mid)).toBeCloseTo(1, 6);
    expect(norm(lerp(0.5, v0, v1))).toBeCloseTo(Math.SQRT1_2, 6);
    // directions come from the normalized vectors, magnitudes from the originals: 3 at t=0 .. 2 at t=1
    close(slerp(0.5, f(3, 0), f(0, 2)), [3 * Math.SQRT1_2, 2 * Math.SQRT1_2]);
    // 120 degrees apart, t = 0.25 turns 30 degrees: s0 = sin(90)/sin(120), s1 = sin(30)/sin(120)
    const s = Math.sin(Math.PI / 3);
    close(slerp(0.25, f(1, 0), f(-0.5, s)), [1 / s - 0.25 / s, 0.5 * s / s]);
  });

  it('falls back to lerp for (anti)colinear vectors, |cos| > 0.9995, and not below', () => {
    const v0 = f(1, 2, 3), v1 = f(2, 4, 6.0001);
    expect([...slerp(0.25, v0, v1)]).toEqual([...lerp(0.25, v0, v1)]);
    expect([...slerp(0.5, v0, v0.map((x) => -x))]).toEqual([0, 0, 0]);
    const a = Math.acos(0.999); // cos = 0.999 < 0.9995: the spherical path
    const w0 = f(1, 0), w1 = f(Math.cos(a), Math.sin(a));
    const mid = slerp(0.5, w0, w1);
    expect(norm(mid)).toBeCloseTo(1, 5);
    expect(Math.abs(norm(mid) - norm(lerp(0.5, w0, w1)))).toBeGreaterThan(1e-4);
  });

  it('zero vectors stay finite (mergekit normalizes only norms above eps)', () => {
    const out = slerp(0.5, f(0, 0), f(1, 0));
    expect(out.every(Number.isFinite)).toBe(true);
    close(out, [Math.sin(Math.PI / 4), 0]);
  });

  it('as a method: base is v0 whatever its position; one input passes through', () => {
    const a = { model: 'a', values: f(1, 0), params: {} }, b = { model: 'b', values: f(0, 1), params: {} };
    close(call('slerp', [b, a], { t: 0.25 }, 1), [Math.cos(Math.PI / 8), Math.sin(Math.PI / 8)]);
    expect(() => call('slerp', [a, b], { t: 0.5 }, -1)).toThrow(/base_model/);
    expect(() => call('slerp', [a, b], {}, 0)).toThrow(/parameter t must be a number/);
  });
});

describe('TIES', () => {
  const base = f(1, 1, 1, 1);
  const A = f(1, -2, 3, 0.5), B = f(-3, 1, 1, -0.1); // task vectors
  const model = (name: string, d: Float32Array, weight: number, density = 1) => ({ model: name, values: d.map((x, i) => x + base[i]), params: { weight, density } });
  const baseIn = { model: 'base', values: base, params: {} };

  it('elects the sign of the summed weighted deltas (count votes the signs instead)', () => {
    expect([...electSign([A, B], 'sum')]).toEqual([-1, -1, 1, 1]);
    expect([...electSign([A, B], 'count')]).toEqual([1, 1, 1, 1]); // ties of one vote each go to +
  });

  it('disjoint merge: only entries agreeing with the elected sign, averaged over their weights', () => {
    // sums [-2, -1, 4, 0.4]: entry 0 keeps B's -3, entry 1 A's -2, entry 2 averages 3 and 1, entry 3 A's 0.5
    close(call('ties', [baseIn, model('a', A, 1), model('b', B, 1)], {}), [1 - 3, 1 - 2, 1 + 2, 1 + 0.5]);
    // weights 2 and 1: weighted [2,-4,6,1] and [-3,1,1,-0.1]; entry 2 = (6 + 1) / 3
    close(call('ties', [baseIn, model('a', A, 2), model('b', B, 1)], {}), [1 - 3, 1 - 2, 1 + 7 / 3, 1 + 0.5]);
    // normalize: false sums what agrees
    close(call('ties', [baseIn, model('a', A, 1), model('b', B, 1)], { normalize: false }), [1 - 3, 1 - 2, 1 + 4, 1 + 0.5]);
  });

  it('trims each task vector to its top-|delta| density before voting', () => {
    // A -> [0,-2,3,0]; B -> [-3,1,0,0] (the tie between the two 1s keeps the first); entry 3 has no votes
    close(call('ties', [baseIn, model('a', A, 1, 0.5), model('b', B, 1, 0.5)], {}), [1 - 3, 1 - 2, 1 + 3, 1]);
    close(magnitudeSparsify(f(0.1, -0.5, 0.3, 0.2), 0.5, false), [0, -0.5, 0.3, 0]);
    close(magnitudeSparsify(f(0.1, -0.5, 0.3, 0.2), 0.5, true), [0, -1, 0.6, 0]);
    expect(() => magnitudeSparsify(f(1, 2, 3, 4), 0.1, false)).toThrow(/keeps no entry/);
  });

  it('task arithmetic: base + sum of weighted task vectors; lambda scales the sum', () => {
    close(call('task_arithmetic', [baseIn, model('a', A, 0.5), model('b', B, 0.5)], {}), [0, 0.5, 3, 1.2]);
    close(call('task_arithmetic', [baseIn, model('a', A, 0.5), model('b', B, 0.5)], { lambda: 2 }), [-1, 0, 5, 1.4]);
    close(generalizedTaskArithmetic(base, [{ delta: A, weight: 1, density: 1 }, { delta: B, weight: 3, density: 1 }], { normalize: true, rescale: false, lambda: 1 }),
      [1 + (1 - 9) / 4, 1 + (-2 + 3) / 4, 1 + (3 + 3) / 4, 1 + (0.5 - 0.3) / 4]);
  });
});

describe('DARE', () => {
  it('drops with probability 1 - density and rescales by 1/density: the expectation is preserved', () => {
    const delta = f(0.5, -1, 2, 0, 3);
    const density = 0.3, draws = 4000;
    const random = seededRandom(7);
    const sum = new Float64Array(delta.length), sumRaw = new Float64Array(delta.length);
    let kept = 0;
    for (let d = 0; d < draws; d++) {
      const r = bernoulliSparsify(delta, density, true, random);
      const raw = r.map((x) => x * density); // the same draw without the 1/density rescale
      for (let i = 0; i < delta.length; i++) { sum[i] += r[i]; sumRaw[i] += raw[i]; if (r[i] !== 0) kept++; }
    }
    expect(kept / (draws * 4)).toBeCloseTo(density, 1); // 4 non-zero entries
    // one draw has sd |x| sqrt((1-p)/p) = 1.53|x|; the mean of 4000 has sd 0.024|x|: allow 0.1|x| (4 sd)
    delta.forEach((x, i) => {
      expect(Math.abs(sum[i] / draws - x)).toBeLessThanOrEqual(0.1 * Math.abs(x));
      expect(Math.abs(sumRaw[i] / draws - density * x)).toBeLessThanOrEqual(0.1 * Math.abs(x) * density);
    });
  });

  it('preserves a large task vector\'s mean in a single draw, and is seeded', () => {
    const n = 20000;
    const delta = new Float32Array(n).fill(1);
    const r = bernoulliSparsify(delta, 0.3, true, seededRandom(1));
    const mean = r.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 1)).toBeLessThan(0.05); // sd of the mean: 0.011
    expect([...bernoulliSparsify(delta, 0.3, true, seededRandom(1))]).toEqual([...r]);
    expect([...bernoulliSparsify(delta, 0.3, true, seededRandom(2))]).not.toEqual([...r]);
  });

  it('dare_linear and dare_ties through the method table: deterministic per seed, equal to task arithmetic at density 1', () => {
    const base = { model: 'base', values: f(0, 0, 0, 0, 0, 0, 0, 0), params: {} };
    const a = { model: 'a', values: f(1, 2, 3, 4, -1, -2, -3, -4), params: { weight: 0.5, density: 0.5 } };
    const b = { model: 'bb', values: f(-1, 1, -1, 1, 2, 2, 2, 2), params: { weight: 0.5, density: 0.5 } };
    for (const m of ['dare_linear', 'dare_ties'] as const) {
      const x = call(m, [base, a, b], {}, 0, 3);
      expect([...call(m, [base, a, b], {}, 0, 3)]).toEqual([...x]);
      expect([...call(m, [base, a, b], {}, 0, 4)]).not.toEqual([...x]);
    }
    const full = (m: 'dare_linear' | 'task_arithmetic') => call(m, [base, { ...a, params: { weight: 0.5, density: 1 } }, { ...b, params: { weight: 0.5, density: 1 } }], {});
    expect([...full('dare_linear')]).toEqual([...full('task_arithmetic')]);
    expect(() => call('dare_linear', [base, { ...a, params: { weight: 1, density: 0 } }], {})).toThrow(/density must be in \(0, 1\]/);
  });
});

describe('passthrough', () => {
  it('copies the one input, optionally scaled', () => {
    const x = { model: 'a', values: f(1, -2), params: {} };
    expect(call('passthrough', [x], {})).toBe(x.values);
    close(call('passthrough', [{ ...x, params: { scale: 0.5 } }], {}), [0.5, -1]);
    expect(() => call('passthrough', [x, x], {})).toThrow(/exactly one model/);
  });
});

describe('parameter gradients and filters (mergekit evaluate_setting)', () => {
  const t = [{ filter: 'self_attn', value: [0, 0.5, 0.3, 0.7, 1] }, { filter: 'mlp', value: [1, 0.5, 0.7, 0.3, 0] }, { value: 0.5 }];
  const attn = 'model.layers.3.self_attn.q_proj.weight', mlp = 'model.layers.3.mlp.up_proj.weight';
  it('interpolates a gradient at t, matches filters by substring, falls back to the unfiltered entry', () => {
    expect(evaluateSetting(attn, t, 0)).toBe(0);
    expect(evaluateSetting(attn, t, 0.25)).toBeCloseTo(0.5);
    expect(evaluateSetting(attn, t, 0.375)).toBeCloseTo(0.4); // halfway between 0.5 and 0.3
    expect(evaluateSetting(attn, t, 1)).toBe(1);
    expect(evaluateSetting(mlp, t, 0.5)).toBeCloseTo(0.7);
    expect(evaluateSetting('model.norm.weight', t, 1)).toBe(0.5);
    expect(evaluateSetting('x', [{ filter: 'mlp', value: 1 }], 0)).toBeUndefined();
    expect(evaluateSetting('x', [1, 0.7, 0.1], 0.5)).toBeCloseTo(0.7);
    expect(evaluateSetting('x', 0.3, 0.9)).toBe(0.3);
  });
});
