import { describe, expect, it } from 'vitest';
import { DTYPES, encode, type DTypeId } from '../../src/model/dtype';
import { f32Tensor, toFloat32 } from '../../src/model/tensor';
import { decodeAs, fitDType, gridFormat, nearestLevel, packGrid, proxyLoss, type Grid } from '../../src/passes/quant/common';
import { gptqQuantize } from '../../src/passes/quant/gptq';
import { hqqTensor } from '../../src/passes/quant/hqq';

/** Deterministic normal samples (xorshift + Box-Muller). */
function gaussian(seed: number) {
  let s = seed >>> 0 || 1;
  const u = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), ((s >>> 0) + 0.5) / 2 ** 32);
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Inputs with correlated channels of unequal scale (as real activations are) and their H = X^T X. */
function correlatedHessian(cols: number, n: number, seed: number): Float64Array {
  const g = gaussian(seed);
  const mix = Float64Array.from({ length: cols * cols }, () => g() / Math.sqrt(cols));
  const scale = Float64Array.from({ length: cols }, (_, i) => 0.2 + 3 * Math.abs(g()) * (i % 7 === 0 ? 4 : 1));
  const H = new Float64Array(cols * cols), z = new Float64Array(cols), x = new Float64Array(cols);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < cols; i++) z[i] = g();
    for (let i = 0; i < cols; i++) {
      let s = z[i];
      for (let k = 0; k < cols; k++) s += 0.7 * mix[i * cols + k] * z[k];
      x[i] = s * scale[i];
    }
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) H[i * cols + j] += x[i] * x[j];
  }
  return H;
}

const randomWeights = (rows: number, cols: number, seed: number) => {
  const g = gaussian(seed);
  return Float32Array.from({ length: rows * cols }, () => 0.05 * g());
};

describe('grid formats pack levels that the format table decodes to scale * level + offset', () => {
  const cases: DTypeId[] = ['int2_g16', 'int3_g32', 'int4_g64', 'int8_g128', 'q8_0', 'q4_0', 'q4_1', 'q5_0'];
  for (const dtype of cases) {
    it(dtype, () => {
      const f = gridFormat(dtype)!;
      const n = f.block * 3, w = randomWeights(1, n, 7);
      const grids: Grid[] = [], levels = new Uint8Array(n), want = new Float32Array(n);
      for (let b = 0; b < 3; b++) {
        const g = f.fit(w, b * f.block);
        grids.push(g);
        for (let j = 0; j < f.block; j++) {
          const q = (levels[b * f.block + j] = nearestLevel(w[b * f.block + j] + 0.01 * Math.sin(j), g, f.levels));
          want[b * f.block + j] = g.scale * q + g.offset;
        }
      }
      expect(Array.from(decodeAs(dtype, packGrid(f, levels, grids), n), (x) => x + 0)).toEqual(Array.from(want, (x) => x + 0)); // -0 and 0 are one value
    });
  }
  it('for every dtype but the floats', () => {
    const gridded = (Object.keys(DTYPES) as DTypeId[]).filter((d) => gridFormat(d));
    expect(gridded.sort()).toEqual((Object.keys(DTYPES) as DTypeId[]).filter((d) => !['f32', 'f16', 'bf16'].includes(d)).sort());
  });
});

describe('fallback dtype when a block does not divide the row', () => {
  it('keeps the dtype when it fits, tries smaller int groups, then f16', () => {
    expect(fitDType('int4_g32', 64)).toBe('int4_g32');
    expect(fitDType('int4_g128', 64)).toBe('int4_g64');
    expect(fitDType('int3_g64', 48)).toBe('int3_g16');
    expect(fitDType('int4_g32', 172)).toBe('f16');
    expect(fitDType('q4_0', 172)).toBe('f16');
    expect(fitDType('f16', 172)).toBe('f16');
  });
});

describe('GPTQ on a random layer with a known Hessian', () => {
  const rows = 48, cols = 128;
  const W = randomWeights(rows, cols, 3);
  const H = correlatedHessian(cols, 600, 11);
  const rtnLoss = (dtype: DTypeId) => proxyLoss(W, decodeAs(dtype, encode(dtype, W), W.length), H, rows, cols);
  const gptqLoss = (dtype: DTypeId, actOrder: boolean, clip = false) =>
    proxyLoss(W, decodeAs(dtype, gptqQuantize(W, rows, cols, H, dtype, { damp: 0.01, blockSize: 128, actOrder, clip }), W.length), H, rows, cols);

  for (const dtype of ['int4_g32', 'int3_g64', 'q4_0', 'q8_0'] as DTypeId[]) {
    it(`beats RTN on tr((W-Q)H(W-Q)^T) into ${dtype}, with and without act-order and clipping`, () => {
      const rtn = rtnLoss(dtype), plain = gptqLoss(dtype, false), ordered = gptqLoss(dtype, true), clipped = gptqLoss(dtype, true, true);
      const x = (l: number) => `${l.toExponential(3)} (${(l / rtn).toFixed(3)}x)`;
      console.log(`${dtype}: proxy loss RTN ${rtn.toExponential(3)}, GPTQ ${x(plain)}, act-order ${x(ordered)}, act-order + clip ${x(clipped)}`);
      expect(plain).toBeLessThan(0.8 * rtn);
      expect(ordered).toBeLessThan(0.8 * rtn);
      expect(clipped).toBeLessThan(0.8 * rtn);
    });
  }

  it('lazy batches are an exact reordering of the same updates', () => {
    const a = gptqQuantize(W, rows, cols, H, 'int4_g32', { damp: 0.01, blockSize: 128, actOrder: true, clip: false });
    const b = gptqQuantize(W, rows, cols, H, 'int4_g32', { damp: 0.01, blockSize: 16, actOrder: true, clip: false });
    const da = decodeAs('int4_g32', a, W.length), db = decodeAs('int4_g32', b, W.length);
    let differ = 0;
    for (let i = 0; i < da.length; i++) if (da[i] !== db[i]) differ++;
    expect(differ / da.length).toBeLessThan(0.01); // only rounding ties may flip
  });

  it('with a diagonal Hessian there is no error to feed forward: GPTQ is RTN, byte for byte', () => {
    const D = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) D[i * cols + i] = 1 + i;
    expect(gptqQuantize(W, rows, cols, D, 'int4_g32', { damp: 0.01, blockSize: 32, actOrder: true, clip: false })).toEqual(encode('int4_g32', W));
  });
});

describe('HQQ', () => {
  it('reconstructs weights better than RTN (squared and absolute error), every block at least as well', () => {
    const W = randomWeights(64, 128, 5);
    // a few outliers, as real weight rows have
    for (let i = 0; i < W.length; i += 97) W[i] *= 6;
    const t = f32Tensor('w', [64, 128], W);
    for (const dtype of ['int4_g32', 'int3_g64', 'int2_g16'] as DTypeId[]) {
      const r = decodeAs(dtype, encode(dtype, W), W.length), hq = toFloat32(hqqTensor(t, dtype));
      let l2r = 0, l2h = 0, l1r = 0, l1h = 0, worse = 0;
      const block = gridFormat(dtype)!.block;
      for (let b = 0; b < W.length / block; b++) {
        let er = 0, eh = 0;
        for (let j = b * block; j < (b + 1) * block; j++) {
          er += (W[j] - r[j]) ** 2; eh += (W[j] - hq[j]) ** 2;
          l1r += Math.abs(W[j] - r[j]); l1h += Math.abs(W[j] - hq[j]);
        }
        l2r += er; l2h += eh;
        if (eh > er * (1 + 1e-9)) worse++;
      }
      console.log(`${dtype}: reconstruction L2 RTN ${l2r.toExponential(3)} HQQ ${l2h.toExponential(3)} (${(l2h / l2r).toFixed(3)}x), L1 ${(l1h / l1r).toFixed(3)}x`);
      expect(worse).toBe(0);
      expect(l2h).toBeLessThan(0.9 * l2r);
      expect(l1h).toBeLessThan(l1r);
    }
  });
});
