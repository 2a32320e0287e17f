// Pruning on random layers: exact sparsity and the N:M pattern for every method, Wanda reducing to magnitude
// when every input is equally active, and SparseGPT's OBS updates beating Wanda on the layer-output proxy loss.
import { describe, expect, it } from 'vitest';
import { owlAllocation, parsePattern, PruneParams, rowQuota, selectMask, sparsityOf, type PruneTarget } from '../../src/passes/prune/common';
import { magnitudePrune } from '../../src/passes/prune/magnitude';
import { sparseGptPrune, sparseGptQuantize } from '../../src/passes/prune/sparsegpt';
import { wandaPrune } from '../../src/passes/prune/wanda';
import { decodeAs, proxyLoss } from '../../src/passes/quant/common';
import { encode } from '../../src/model/dtype';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

/** A random layer [rows, cols] and calibration inputs with uneven, correlated channels: H = X^T X, sqSum = diag H. */
function layer(rows: number, cols: number, n: number, seed: number) {
  const r = rng(seed);
  const W = Float32Array.from({ length: rows * cols }, () => gauss(r) * 0.1);
  const scale = Float64Array.from({ length: cols }, () => Math.exp(gauss(r)));
  const X = new Float64Array(n * cols);
  for (let t = 0; t < n; t++) {
    const common = gauss(r);
    for (let j = 0; j < cols; j++) X[t * cols + j] = scale[j] * (gauss(r) + 0.5 * common);
  }
  const H = new Float64Array(cols * cols);
  for (let t = 0; t < n; t++) for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) H[i * cols + j] += X[t * cols + i] * X[t * cols + j];
  const sqSum = Float64Array.from({ length: cols }, (_, j) => H[j * cols + j]);
  return { W, H, sqSum };
}

const methods = {
  magnitude: (W: Float32Array, rows: number, cols: number, _H: Float64Array, _sq: Float64Array, t: PruneTarget) => magnitudePrune(W, rows, cols, t),
  wanda: (W: Float32Array, rows: number, cols: number, _H: Float64Array, sq: Float64Array, t: PruneTarget) => wandaPrune(W, rows, cols, sq, t),
  sparsegpt: (W: Float32Array, rows: number, cols: number, H: Float64Array, _sq: Float64Array, t: PruneTarget) => sparseGptPrune(W, rows, cols, H, t),
};

describe('pruning a random layer', () => {
  const [rows, cols] = [24, 172]; // 172: two SparseGPT blocks (128 + 44), and stories260K's down_proj width
  const { W, H, sqSum } = layer(rows, cols, 400, 7);

  it('removes exactly round(sparsity * inputs) weights per row, for every method and sparsity', () => {
    for (const [name, prune] of Object.entries(methods)) {
      for (const s of [0.1, 0.3, 0.5, 0.7]) {
        const out = prune(W, rows, cols, H, sqSum, { sparsity: s });
        expect(sparsityOf(out), `${name} ${s}`).toBe((rows * rowQuota(cols, s)) / (rows * cols));
        if (name === 'magnitude') continue;
        for (let r = 0; r < rows; r++) expect(sparsityOf(out.subarray(r * cols, (r + 1) * cols)), `${name} ${s} row ${r}`).toBe(rowQuota(cols, s) / cols);
      }
    }
  });

  it('N:M (2:4, 4:8): every group of M consecutive inputs keeps exactly N weights', () => {
    for (const pattern of ['2:4', '4:8'] as const) {
      const nm = parsePattern(pattern)!;
      const c = 128 + 64; // whole groups of 8; the second SparseGPT block is partial
      const l = layer(rows, c, 300, 3);
      for (const [name, prune] of Object.entries(methods)) {
        const out = prune(l.W, rows, c, l.H, l.sqSum, { sparsity: 1 - nm.n / nm.m, nm });
        for (let g = 0; g < rows * c; g += nm.m) {
          let kept = 0;
          for (let j = 0; j < nm.m; j++) if (out[g + j] !== 0) kept++;
          expect(kept, `${name} ${pattern} group ${g}`).toBe(nm.n);
        }
      }
    }
  });

  it('Wanda is magnitude pruning (per output row) when every input is equally active', () => {
    const uniform = new Float64Array(cols).fill(3.5);
    for (const s of [0.3, 0.5]) {
      const mask = selectMask(W.map(Math.abs), rows, cols, { sparsity: s }, 'row');
      const byRow = W.map((w, i) => (mask[i] ? 0 : w));
      expect(wandaPrune(W, rows, cols, uniform, { sparsity: s })).toEqual(byRow);
    }
    const nm = { sparsity: 0.5, nm: { n: 2, m: 4 } };
    expect(wandaPrune(W, rows, cols, uniform, nm)).toEqual(magnitudePrune(W, rows, cols, nm));
  });

  it('SparseGPT beats Wanda, and Wanda beats magnitude, on the proxy loss tr((W - Q) H (W - Q)^T)', () => {
    for (const target of [{ sparsity: 0.5 }, { sparsity: 0.7 }, { sparsity: 0.5, nm: { n: 2, m: 4 } }] as PruneTarget[]) {
      const loss = Object.fromEntries(Object.entries(methods).map(([n, prune]) => [n, proxyLoss(W, prune(W, rows, cols, H, sqSum, target), H, rows, cols)]));
      expect(loss.sparsegpt, JSON.stringify(target)).toBeLessThan(0.9 * loss.wanda);
      expect(loss.wanda, JSON.stringify(target)).toBeLessThan(loss.magnitude);
    }
  });

  it('joint SparseGPT + q4_0/q8_0: pruned weights stay exact zeros (2:4 too), and at 4 bits it beats pruning then rounding', () => {
    const c = 128 + 64; // whole 32-blocks; the second lazy batch is partial
    const l = layer(rows, c, 300, 5);
    for (const dtype of ['q4_0', 'q8_0'] as const) {
      for (const target of [{ sparsity: 0.5 }, { sparsity: 0.5, nm: { n: 2, m: 4 } }] as PruneTarget[]) {
        const joint = decodeAs(dtype, sparseGptQuantize(l.W, rows, c, l.H, target, dtype), rows * c);
        const pruned = sparseGptPrune(l.W, rows, c, l.H, target);
        const zeros = [...pruned.keys()].filter((i) => pruned[i] === 0);
        expect(sparsityOf(joint), `${dtype} ${JSON.stringify(target)}`).toBeGreaterThanOrEqual(0.5);
        const then = decodeAs(dtype, encode(dtype, pruned), rows * c); // prune, then llama.cpp's round-to-nearest
        const [lj, lt] = [proxyLoss(l.W, joint, l.H, rows, c), proxyLoss(l.W, then, l.H, rows, c)];
        // q4_0's rounding error is large enough for the joint updates to pay; q8_0's is not, and the two are a tie
        expect(lj, `${dtype} ${JSON.stringify(target)}: joint ${lj} vs prune-then-RTN ${lt}`).toBeLessThan(dtype === 'q4_0' ? 0.95 * lt : 1.02 * lt);
        if (target.nm) for (let g = 0; g < joint.length; g += 4) expect(joint.subarray(g, g + 4).filter((x) => x === 0).length).toBeGreaterThanOrEqual(2);
        // the joint mask is chosen on error-updated weights too; the RTN path keeps every zero of its input
        expect(zeros.every((i) => then[i] === 0)).toBe(true);
      }
    }
    expect(() => sparseGptQuantize(l.W.subarray(0, rows * 172), rows, 172, l.H, { sparsity: 0.5 }, 'q4_0')).toThrow(/whole q4_0 blocks of 32/);
  });

  it('SparseGPT with a zero sparsity changes nothing', () => {
    expect(sparseGptPrune(W, rows, cols, H, { sparsity: 0 })).toEqual(W);
  });

  it('OWL allocation: more outliers, less sparsity; within +/- 2 lambda; the mean stays at the target', () => {
    const ratios = [0.0055, 0.0035, 0.0036, 0.0037, 0.0032];
    const alloc = owlAllocation(ratios, 0.5, 0.08);
    expect(alloc.reduce((a, b) => a + b, 0) / alloc.length).toBeCloseTo(0.5, 12);
    expect(Math.max(...alloc) - Math.min(...alloc)).toBeCloseTo(0.16, 12);
    const order = (a: number[]) => a.map((_, i) => i).sort((x, y) => a[x] - a[y]);
    expect(order(alloc)).toEqual(order(ratios.map((d) => -d)));
    expect(owlAllocation([0.01, 0.01, 0.01], 0.7, 0.08)).toEqual([0.7, 0.7, 0.7]);
  });

  it('params: defaults, patterns, range checks', () => {
    expect(PruneParams.parse({})).toMatchObject({ sparsity: 0.5, pattern: 'unstructured', embedding: false, lmHead: false });
    expect(() => PruneParams.parse({ sparsity: 1.5 })).toThrow();
    expect(() => PruneParams.parse({ pattern: '3:4' })).toThrow();
    expect(parsePattern('4:8')).toEqual({ n: 4, m: 8 });
  });
});
