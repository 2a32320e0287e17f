// Every WGSL kernel against its cpu-reference twin, on seeded random inputs with odd sizes (not
// multiples of any tile or workgroup). Tolerance: max |gpu - cpu| <= TOL * max(1, max |cpu|);
// the CPU accumulates in double, the GPU in f32 (in another order), so ~1e-6 is typical.
import { beforeAll, describe, expect, it } from 'vitest';
import { getNodeGpuDevice } from '../../node/gpu';
import { readFloats, uploadBuffer, storageBuffer } from '../../src/gpu/buffers';
import { GpuContext } from '../../src/gpu/context';
import { Dispatch } from '../../src/gpu/dispatch';
import type { Kernel, KernelBuffers, KernelParams } from '../../src/gpu/kernel';
import * as K from '../../src/gpu/kernels';
import { ropeTable } from '../../src/gpu/rope-table';
import { UniformArena } from '../../src/gpu/uniforms';
import type { RopeStyle } from '../../src/model/config';
import { applyRope, attention, embed, matmulT, rmsNorm, swiglu } from '../../src/runtime/cpu-reference';

const TOL = 1e-5;

let device: GPUDevice;
let ctx: GpuContext;
let arena: UniformArena;

beforeAll(async () => {
  device = await getNodeGpuDevice();
  ctx = GpuContext.for(device);
  await ctx.compile(...K.ALL_KERNELS);
  arena = new UniformArena(device);
});

/** Run one dispatch of `kernel` (or a same-signature `variant`) and wait for it. */
async function run<T extends Kernel>(kernel: T, buffers: KernelBuffers<T>, params: KernelParams<T>, variant?: T) {
  const d = new Dispatch(ctx, arena, kernel, buffers);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  d.record(pass, params, variant);
  pass.end();
  arena.flush();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}

function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n: number, scale = 1) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

function expectClose(gpu: Float32Array, cpu: Float32Array, tol = TOL) {
  expect(gpu.length).toBe(cpu.length);
  let diff = 0, mag = 1;
  for (let i = 0; i < cpu.length; i++) {
    diff = Math.max(diff, Math.abs(gpu[i] - cpu[i]));
    mag = Math.max(mag, Math.abs(cpu[i]));
  }
  expect(diff / mag, `max abs diff ${diff} (scale ${mag})`).toBeLessThanOrEqual(tol);
}

const up = (data: Float32Array | Uint32Array) => uploadBuffer(device, 'test', data);
const empty = (floats: number) => storageBuffer(device, 'test', floats * 4);

describe('embedding', () => {
  it('gathers rows of the table', async () => {
    const vocab = 37, dim = 13, tokens = [0, 36, 5, 5, 17, 2, 30];
    const table = random(1)(vocab * dim);
    const out = empty(tokens.length * dim);
    await run(K.embedding, { tokens: up(Uint32Array.from(tokens)), table: up(table), out }, { rows: tokens.length, dim });
    expect(await readFloats(device, out, tokens.length * dim)).toEqual(embed(table, tokens, dim, vocab));
  });
});

describe('rmsnorm', () => {
  for (const [rows, dim] of [[1, 64], [7, 13], [64, 300], [3, 1000]]) {
    it(`rows ${rows}, dim ${dim}`, async () => {
      const r = random(rows * 1000 + dim);
      const x = r(rows * dim, 3), w = r(dim);
      const out = empty(rows * dim);
      await run(K.rmsNorm, { x: up(x), weight: up(w), out }, { rows, dim, srcRow: 0, eps: 1e-5 });
      expectClose(await readFloats(device, out, rows * dim), rmsNorm(x, w, 1e-5, rows));
    });
  }

  it('srcRow normalizes only the last row (what lastOnly logits need)', async () => {
    const rows = 5, dim = 24;
    const r = random(7);
    const x = r(rows * dim), w = r(dim);
    const out = empty(dim);
    await run(K.rmsNorm, { x: up(x), weight: up(w), out }, { rows: 1, dim, srcRow: rows - 1, eps: 1e-6 });
    expectClose(await readFloats(device, out, dim), rmsNorm(x.subarray((rows - 1) * dim), w, 1e-6, 1));
  });
});

describe('matmul (x W^T + bias, optional accumulate)', () => {
  // [rows, inDim, outDim]: single rows, odd sizes, a full tile, just past a tile, K longer than a workgroup
  const shapes = [[1, 64, 64], [7, 13, 29], [64, 172, 64], [65, 100, 130], [3, 300, 70], [2, 8, 513]];
  for (const kernel of [K.matmulF32, K.matvecF32]) {
    for (const [rows, inDim, outDim] of shapes) {
      it(`${kernel.label} ${rows}x${inDim} -> ${outDim}, with bias`, async () => {
        const r = random(rows * 7 + inDim * 13 + outDim);
        const x = r(rows * inDim), w = r(outDim * inDim), bias = r(outDim);
        const out = empty(rows * outDim);
        await run(K.matmulF32, { x: up(x), w: up(w), bias: up(bias), out }, { rows, inDim, outDim, flags: K.MATMUL_BIAS }, kernel);
        expectClose(await readFloats(device, out, rows * outDim), matmulT(x, w, rows, inDim, outDim, bias));
      });
    }

    it(`${kernel.label} accumulates into the output (fused residual add)`, async () => {
      const rows = 3, inDim = 45, outDim = 21;
      const r = random(99);
      const x = r(rows * inDim), w = r(outDim * inDim), residual = r(rows * outDim);
      const out = up(residual);
      await run(K.matmulF32, { x: up(x), w: up(w), bias: empty(1), out }, { rows, inDim, outDim, flags: K.MATMUL_ACCUMULATE }, kernel);
      const want = matmulT(x, w, rows, inDim, outDim).map((v, i) => v + residual[i]);
      expectClose(await readFloats(device, out, rows * outDim), want);
    });
  }
});

describe('rope', () => {
  const cases: [RopeStyle, number, number, number, number, number][] = [
    // style, rows, heads, headDim, startPos, theta
    ['interleaved', 7, 3, 8, 5, 10000],
    ['half', 7, 3, 8, 5, 10000],
    ['interleaved', 1, 4, 64, 1000, 10000],
    ['half', 2, 2, 128, 2040, 1e6],
  ];
  for (const [style, rows, heads, headDim, startPos, theta] of cases) {
    it(`${style}: rows ${rows}, heads ${heads}, headDim ${headDim}, from position ${startPos}`, async () => {
      const x = random(startPos + headDim)(rows * heads * headDim);
      const buf = up(x);
      const table = up(ropeTable(startPos + rows, headDim, theta));
      await run(K.rope, { x: buf, table }, { rows, numHeads: heads, headDim, startPos, style: style === 'interleaved' ? 0 : 1 });
      const want = x.slice();
      applyRope(want, rows, heads, headDim, startPos, theta, style);
      expectClose(await readFloats(device, buf, x.length), want);
    });
  }
});

describe('kv-write', () => {
  it('appends rows at startPos and leaves the rest of the cache alone', async () => {
    const rows = 3, kvDim = 12, startPos = 5, positions = 10;
    const r = random(3);
    const k = r(rows * kvDim), v = r(rows * kvDim), old = r(positions * kvDim);
    const kCache = up(old), vCache = up(old);
    await run(K.kvWrite, { k: up(k), v: up(v), kCache, vCache }, { rows, kvDim, startPos });
    const wantK = old.slice(), wantV = old.slice();
    wantK.set(k, startPos * kvDim);
    wantV.set(v, startPos * kvDim);
    expect(await readFloats(device, kCache, old.length)).toEqual(wantK);
    expect(await readFloats(device, vCache, old.length)).toEqual(wantV);
  });
});

describe('attention (causal, GQA, online softmax over chunks of 64 keys)', () => {
  const cases = [
    // rows, startPos, heads, kvHeads, headDim
    [7, 0, 4, 2, 8], // prefill from empty
    [1, 150, 8, 4, 16], // decode across three key chunks
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
      await run(K.attention, { q: up(q), kCache: up(kCache), vCache: up(vCache), out }, {
        rows, startPos, numHeads: heads, numKvHeads: kvHeads, headDim, scale: 1 / Math.sqrt(headDim),
      });
      expectClose(await readFloats(device, out, q.length), attention(q, kCache, vCache, rows, startPos, heads, kvHeads, headDim));
    });
  }
});

describe('swiglu', () => {
  it('silu(gate) * up in place, stable for large |gate|', async () => {
    const n = 1001;
    const r = random(5);
    const gate = r(n, 20), u = r(n);
    gate.set([100, -100, 0, 88.7, -88.7]);
    const buf = up(gate);
    await run(K.swiglu, { gate: buf, up: up(u) }, { n });
    expectClose(await readFloats(device, buf, n), swiglu(gate, u));
  });
});
