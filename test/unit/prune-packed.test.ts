// The packed N:M format (model/dtypes/sparse-nm.ts): lossless for f32 values, f16-rounded for f16 values,
// the byte sizes its header comment promises, groups with fewer than N nonzeros, and clear errors.
import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../../src/model/half';
import { isNmSparse, nmBytes, packNm, unpackNm } from '../../src/model/dtypes/sparse-nm';
import { magnitudePrune } from '../../src/passes/prune/magnitude';

function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const pruned = (rows: number, cols: number, n: number, m: number, seed: number) => {
  const next = random(seed);
  return magnitudePrune(Float32Array.from({ length: rows * cols }, next), rows, cols, { sparsity: 1 - n / m, nm: { n, m } });
};

describe('packed N:M', () => {
  for (const [n, m] of [[2, 4], [4, 8]] as const) {
    for (const cols of [64, 172 - (172 % m), 24]) {
      it(`${n}:${m}, rows of ${cols}: f32 round trip is exact, f16 is the f16-rounded matrix`, () => {
        const rows = 7, W = pruned(rows, cols, n, m, cols + n);
        expect(isNmSparse(W, cols, n, m)).toBe(true);
        const p32 = packNm(W, { n, m, valueType: 'f32', rows, cols });
        expect(unpackNm(p32)).toEqual(W);
        const p16 = packNm(W, { n, m, valueType: 'f16', rows, cols });
        expect(unpackNm(p16)).toEqual(W.map((x) => f16ToF32(f32ToF16(x))));
        expect(p32.words.byteLength).toBe(nmBytes(p32));
      });
    }
  }

  it('bytes: 2:4 keeps 17/32 of f32 (9/32 with f16 values), 4:8 18/32 (10/32), rows of whole index words', () => {
    const l = { rows: 256, cols: 256 };
    expect(nmBytes({ ...l, n: 2, m: 4, valueType: 'f32' }) / (256 * 256 * 4)).toBe(17 / 32);
    expect(nmBytes({ ...l, n: 2, m: 4, valueType: 'f16' }) / (256 * 256 * 4)).toBe(9 / 32);
    expect(nmBytes({ ...l, n: 4, m: 8, valueType: 'f32' }) / (256 * 256 * 4)).toBe(18 / 32);
    expect(nmBytes({ ...l, n: 4, m: 8, valueType: 'f16' }) / (256 * 256 * 4)).toBe(10 / 32);
    // 172 inputs: 43 groups of 4 need 6 index words per row (8 groups per word)
    expect(nmBytes({ rows: 1, cols: 172, n: 2, m: 4, valueType: 'f32' })).toBe(86 * 4 + 6 * 4);
  });

  it('a group with fewer than N nonzeros stores zeros; one with more is refused by position', () => {
    const W = new Float32Array([0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 2, 0, 0, 0, 0, 5]);
    expect(unpackNm(packNm(W, { n: 2, m: 4, valueType: 'f32', rows: 2, cols: 8 }))).toEqual(W);
    const dense = new Float32Array([1, 2, 3, 0, 0, 0, 0, 0]);
    expect(isNmSparse(dense, 8, 2, 4)).toBe(false);
    expect(() => packNm(dense, { n: 2, m: 4, valueType: 'f32', rows: 1, cols: 8 })).toThrow(/row 0, inputs 0\.\.3 hold 3 nonzeros, more than 2 of 4/);
    expect(() => packNm(dense, { n: 2, m: 4, valueType: 'f32', rows: 2, cols: 4 - 1 })).toThrow(/not whole groups of 4/);
    expect(() => packNm(dense, { n: 1, m: 4, valueType: 'f32', rows: 1, cols: 8 })).toThrow(/supports 2:4 and 4:8/);
  });
});
