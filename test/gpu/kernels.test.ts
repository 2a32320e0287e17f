// Every WGSL kernel against its cpu-reference twin, on seeded random inputs with odd sizes (not
// multiples of any tile or workgroup). Tolerance (setup.ts): max |gpu - cpu| <= 1e-5 * max(1, max |cpu|);
// the CPU accumulates in double, the GPU in f32 (in another order), so ~1e-6 is typical.
import { describe, expect, it } from 'vitest';
import { readFloats } from '../../src/gpu/buffers';
import * as K from '../../src/gpu/kernels';
import { ropeTable } from '../../src/gpu/rope-table';
import type { RopeStyle } from '../../src/model/config';
import { applyRope, attention, embed, matmulT, rmsNorm, swiglu } from '../../src/runtime/cpu-reference';
import { device, empty, expectClose, random, runOnce, up, useGpu } from './setup';

useGpu(K.ALL_KERNELS);

describe('embedding', () => {
  it('gathers rows of the table', async () => {
    const vocab = 37, dim = 13, tokens = [0, 36, 5, 5, 17, 2, 30];
    const table = random(1)(vocab * dim);
    const out = empty(tokens.length * dim);
    await runOnce(K.embedding, { tokens: up(Uint32Array.from(tokens)), table: up(table), out }, { rows: tokens.length, dim });
    expect(await readFloats(device, out, tokens.length * dim)).toEqual(embed(table, tokens, dim, vocab));
  });
});

for (const kernel of [K.rmsNorm, K.rmsNormSerial]) {
  describe(kernel.label, () => {
    for (const [rows, dim] of [[1, 64], [7, 13], [64, 300], [3, 1000]]) {
      it(`rows ${rows}, dim ${dim}`, async () => {
        const r = random(rows * 1000 + dim);
        const x = r(rows * dim, 3), w = r(dim);
        const out = empty(rows * dim);
        await runOnce(kernel, { x: up(x), weight: up(w), out }, { rows, dim, srcRow: 0, eps: 1e-5 });
        expectClose(await readFloats(device, out, rows * dim), rmsNorm(x, w, 1e-5, rows));
      });
    }

    it('srcRow normalizes only the last row (what lastOnly logits need)', async () => {
      const rows = 5, dim = 24;
      const r = random(7);
      const x = r(rows * dim), w = r(dim);
      const out = empty(dim);
      await runOnce(kernel, { x: up(x), weight: up(w), out }, { rows: 1, dim, srcRow: rows - 1, eps: 1e-6 });
      expectClose(await readFloats(device, out, dim), rmsNorm(x.subarray((rows - 1) * dim), w, 1e-6, 1));
    });
  });
}

describe('matmul (x W^T + bias, optional accumulate)', () => {
  // [rows, inDim, outDim]: single rows, odd sizes, a full tile, just past a tile, K longer than a workgroup
  const shapes = [[1, 64, 64], [7, 13, 29], [64, 172, 64], [65, 100, 130], [3, 300, 70], [2, 8, 513]];
  for (const kernel of [K.matmulF32, K.matmulF32Blocked, K.matvecF32, K.matvecF32Vec4, K.matvecF32Serial]) {
    // the vec4 kernel needs inDim % 4 == 0 (the runtime falls back to matvec_f32 otherwise)
    for (const [rows, inDim, outDim] of shapes.filter(([, k]) => kernel !== K.matvecF32Vec4 || k % 4 === 0)) {
      it(`${kernel.label} ${rows}x${inDim} -> ${outDim}, with bias`, async () => {
        const r = random(rows * 7 + inDim * 13 + outDim);
        const x = r(rows * inDim), w = r(outDim * inDim), bias = r(outDim);
        const out = empty(rows * outDim);
        await runOnce(K.matmulF32, { x: up(x), w: up(w), bias: up(bias), out }, { rows, inDim, outDim, flags: K.MATMUL_BIAS }, kernel);
        expectClose(await readFloats(device, out, rows * outDim), matmulT(x, w, rows, inDim, outDim, bias));
      });
    }

    it(`${kernel.label} accumulates into the output (fused residual add)`, async () => {
      const rows = 3, inDim = 44, outDim = 21;
      const r = random(99);
      const x = r(rows * inDim), w = r(outDim * inDim), residual = r(rows * outDim);
      const out = up(residual);
      await runOnce(K.matmulF32, { x: up(x), w: up(w), bias: empty(1), out }, { rows, inDim, outDim, flags: K.MATMUL_ACCUMULATE }, kernel);
      const want = matmulT(x, w, rows, inDim, outDim).map((v, i) => v + residual[i]);
      expectClose(await readFloats(device, out, rows * outDim), want);
    });
  }
});

describe('rope-kv (RoPE on fused q|k|v, k and v appended to the cache)', () => {
  const cases: [RopeStyle, number, number, number, number, number, number][] = [
    // style, rows, heads, kvHeads, headDim, startPos, theta
    ['interleaved', 7, 4, 2, 8, 5, 10000],
    ['half', 7, 3, 3, 8, 0, 10000],
    ['interleaved', 1, 4, 1, 64, 1000, 10000],
    ['half', 2, 2, 2, 128, 2040, 1e6],
  ];
  for (const [style, rows, heads, kvHeads, headDim, startPos, theta] of cases) {
    it(`${style}: rows ${rows}, ${heads}q/${kvHeads}kv heads of ${headDim}, from position ${startPos}`, async () => {
      const qDim = heads * headDim, kvDim = kvHeads * headDim, positions = startPos + rows + 2;
      const r = random(startPos + headDim + heads);
      const q = r(rows * qDim), k = r(rows * kvDim), v = r(rows * kvDim), old = r(positions * kvDim);
      const qkv = new Float32Array(rows * (qDim + 2 * kvDim));
      for (let i = 0; i < rows; i++) {
        qkv.set(q.subarray(i * qDim, (i + 1) * qDim), i * (qDim + 2 * kvDim));
        qkv.set(k.subarray(i * kvDim, (i + 1) * kvDim), i * (qDim + 2 * kvDim) + qDim);
        qkv.set(v.subarray(i * kvDim, (i + 1) * kvDim), i * (qDim + 2 * kvDim) + qDim + kvDim);
      }
      const qOut = empty(rows * qDim), kCache = up(old), vCache = up(old);
      await runOnce(K.ropeKv, { qkv: up(qkv), table: up(ropeTable(positions, headDim, theta)), q: qOut, kCache, vCache }, {
        rows, numHeads: heads, numKvHeads: kvHeads, headDim, startPos, style: style === 'interleaved' ? 0 : 1,
      });
      applyRope(q, rows, heads, headDim, startPos, theta, style);
      applyRope(k, rows, kvHeads, headDim, startPos, theta, style);
      const wantK = old.slice(), wantV = old.slice();
      wantK.set(k, startPos * kvDim);
      wantV.set(v, startPos * kvDim);
      expectClose(await readFloats(device, qOut, q.length), q);
      expectClose(await readFloats(device, kCache, old.length), wantK); // rows outside [startPos, +rows) untouched
      expect(await readFloats(device, vCache, old.length)).toEqual(wantV);
    });
  }
});

for (const kernel of [K.attention, K.attentionSerial]) {
  describe(`${kernel.label} (causal, GQA, online softmax)`, () => {
    const cases = [
      // rows, startPos, heads, kvHeads, headDim
      [7, 0, 4, 2, 8], // prefill from empty
      [1, 150, 8, 4, 16], // decode across three 64-key chunks
      [5, 60, 2, 1, 72], // rows straddling a chunk edge; > 64 dims per head
      [2, 3, 2, 2, 256], // the largest supported head
      [1, 2040, 4, 1, 8], // long context
    ];
    for (const [rows, startPos, heads, kvHeads, headDim] of cases) {
      it(`rows ${rows} from ${startPos}, ${heads}q/${kvHeads}kv heads of ${headDim}`, async () => {
        const r = random(rows + startPos + headDim);
        const positions = startPos + rows, kvDim = kvHeads * headDim;
        // scores of several units, so the softmax is far from uniform
        const q = r(rows * heads * headDim, 2), kCache = r(positions * kvDim, 2), vCache = r(positions * kvDim);
        const out = empty(rows * heads * headDim);
        await runOnce(kernel, { q: up(q), kCache: up(kCache), vCache: up(vCache), out }, {
          rows, startPos, numHeads: heads, numKvHeads: kvHeads, headDim, scale: 1 / Math.sqrt(headDim),
        });
        expectClose(await readFloats(device, out, q.length), attention(q, kCache, vCache, rows, startPos, heads, kvHeads, headDim));
      });
    }
  });
}

describe('swiglu', () => {
  it('silu(gate) * up over fused gate|up rows, stable for large |gate|', async () => {
    const rows = 3, dim = 333;
    const r = random(5);
    const gate = r(rows * dim, 20), u = r(rows * dim);
    gate.set([100, -100, 0, 88.7, -88.7]);
    const gateUp = new Float32Array(rows * 2 * dim);
    for (let i = 0; i < rows; i++) {
      gateUp.set(gate.subarray(i * dim, (i + 1) * dim), i * 2 * dim);
      gateUp.set(u.subarray(i * dim, (i + 1) * dim), i * 2 * dim + dim);
    }
    const out = empty(rows * dim);
    await runOnce(K.swiglu, { gateUp: up(gateUp), out }, { rows, dim });
    expectClose(await readFloats(device, out, rows * dim), swiglu(gate, u));
  });
});
