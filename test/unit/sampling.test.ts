// The partial-selection sampler against the full-sort reference: the same token for every logits vector,
// seed and option set, drawn through the same generator (so each draw also consumes exactly one number).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleAt, seededRandom, type SamplingOptions } from '../../src/runtime/sampling';
import { sampleReference } from '../../src/runtime/sampling-reference';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);

/** Logits with ties (small integers), masked tokens (-Infinity) and sometimes already in order. */
const logitsArb = (maxLength: number) =>
  fc.tuple(
    fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.float({ min: Math.fround(-40), max: Math.fround(40), noNaN: true, noDefaultInfinity: true }) },
        { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
        { weight: 1, arbitrary: fc.constant(-Infinity) },
      ),
      { minLength: 1, maxLength, size: 'max' },
    ),
    fc.constantFrom('as drawn', 'ascending', 'descending'),
  ).map(([xs, order]) => {
    const v = Float32Array.from(xs);
    if (v.every((x) => x === -Infinity)) v[0] = 0; // the reference needs one finite logit
    if (order === 'ascending') v.sort();
    if (order === 'descending') v.sort().reverse();
    return v;
  });

const optsArb = (n: number) =>
  fc.record({
    temperature: fc.oneof(fc.constant(0), fc.double({ min: 0.05, max: 4, noNaN: true })),
    topK: fc.oneof(fc.constant(undefined), fc.constant(0), fc.integer({ min: 1, max: n + 2 }), fc.double({ min: 1, max: n + 2, noNaN: true })),
    topP: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 1.5), fc.double({ min: 1e-6, max: 0.9999, noNaN: true })),
  }, { requiredKeys: [] }) as fc.Arbitrary<SamplingOptions>;

const caseArb = (maxLength: number) =>
  logitsArb(maxLength).chain((logits) => fc.tuple(fc.constant(logits), optsArb(logits.length), fc.integer({ min: 0, max: 2 ** 31 - 1 })));

/** Three draws from one generator each way; returns the tokens of both. */
function drawBoth(logits: Float32Array, opts: SamplingOptions, seed: number, tune: Parameters<typeof sampleAt>[3]) {
  const a = seededRandom(seed), b = seededRandom(seed);
  const got = [0, 1, 2].map(() => sampleAt(logits, opts, a, tune));
  const want = [0, 1, 2].map(() => sampleReference(logits, opts, b));
  return { got, want };
}

/** Normal logits with standard deviation 3, about the spread of a small LLM's output. */
function gaussianLogits(n: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const logits = new Float32Array(n);
  for (let i = 0; i < n; i++) logits[i] = 3 * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return logits;
}

/** Adjacent doubles lo < hi in [from, to] where f changes value (f must differ at the two ends). */
function edge<T>(f: (x: number) => T, from: number, to: number): { lo: number; hi: number } {
  const at = f(from);
  expect(f(to)).not.toBe(at);
  let lo = from, hi = to;
  for (;;) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) return { lo, hi };
    if (f(mid) === at) lo = mid; else hi = mid;
  }
}

function nextUp(x: number): number {
  const b = new Float64Array([x]);
  new BigInt64Array(b.buffer)[0] += 1n;
  return b[0];
}

describe('sample (partial selection) vs the full-sort reference', () => {
  it('returns the same token for random logits, seeds, temperature, top-k and top-p', () => {
    const tune = { fallbacks: 0 };
    fc.assert(fc.property(caseArb(700), ([logits, opts, seed]) => {
      const { got, want } = drawBoth(logits, opts, seed, tune);
      expect(got).toEqual(want);
    }), { seed: SEED, numRuns: 400 });
    // the interval test decided every draw itself: the fast path is what was compared
    expect(tune.fallbacks).toBe(0);
  });

  it('is the same on the interval path for every pool size (no outright sort of small pools)', () => {
    fc.assert(fc.property(caseArb(300), ([logits, opts, seed]) => {
      const { got, want } = drawBoth(logits, opts, seed, { sortPoolBelow: 0 });
      expect(got).toEqual(want);
    }), { seed: SEED + 1, numRuns: 400 });
  });

  it('is the same when the interval is too wide to decide and the reference takes over', () => {
    const tune = { fallbacks: 0, sortPoolBelow: 0, slack: 2 ** 44 };
    fc.assert(fc.property(caseArb(300), ([logits, opts, seed]) => {
      const { got, want } = drawBoth(logits, opts, seed, tune);
      expect(got).toEqual(want);
    }), { seed: SEED + 2, numRuns: 200 });
    expect(tune.fallbacks).toBeGreaterThan(50);
  });

  it('is the same on the draws and top-p values that sit on a token boundary, where the order of additions shows', () => {
    const tune = { fallbacks: 0 };
    let checked = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const logits = gaussianLogits(3000, seed);
      for (const base of [{ temperature: 1 }, { temperature: 0.6, topK: 1200 }]) {
        const token = (u: number, opts: SamplingOptions = base) => sampleReference(logits, opts, () => u);
        for (const u0 of [0.1, 0.4, 0.7, 0.95]) {
          const u = edge((x) => token(x), u0, 1 - 2 ** -40);
          for (const x of [u.lo, u.hi, nextUp(u.hi)]) {
            expect(sampleAt(logits, base, () => x, tune), `u ${x}`).toBe(token(x));
            checked++;
          }
        }
        const near1 = 1 - 2 ** -30;
        const p = edge((x) => token(near1, { ...base, topP: x }), 0.5, 0.95);
        for (const topP of [p.lo, p.hi, nextUp(p.hi)]) {
          for (const x of [near1, 0.5, 0.99]) {
            const opts = { ...base, topP };
            expect(sampleAt(logits, opts, () => x, tune), `topP ${topP} u ${x}`).toBe(token(x, opts));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(6 * 2 * (4 * 3 + 3 * 3));
    // at least some of these edges were too close for the interval, so the reference's answer was needed
    expect(tune.fallbacks).toBeGreaterThan(0);
  });

  it('is the same at a 152k vocabulary with LLM-like logits', () => {
    const logits = gaussianLogits(152_064, 7);
    for (const opts of [{ temperature: 0.8 }, { temperature: 1, topK: 40 }, { temperature: 0.7, topP: 0.9 }, { temperature: 1, topK: 2000, topP: 0.95 }]) {
      const { got, want } = drawBoth(logits, opts, 11, {});
      expect(got, JSON.stringify(opts)).toEqual(want);
    }
  });
});
