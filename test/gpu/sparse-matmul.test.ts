// The packed N:M sparse matmul (sparse-nm-matvec.wgsl) against the dense CPU reference: unpackNm (the
// format's oracle) then cpu-reference matmulT, for 2:4 and 4:8 with f32 and f16 values, both kernel families,
// decode and batch rows, bias and the fused residual add. Tolerance 1e-5 * max(1, max |cpu|): the values are
// exact on both sides, only summation order differs. Then a 2:4-pruned stories260K on WebGpuRuntime: its
// f32 block linears go up packed (uploadMatrix), the GPU memory shrinks by exactly the packed saving, and
// the logits match CpuRuntime on the same model.
import { beforeAll, describe, expect, it } from 'vitest';
import { uploadBuffer } from '../../src/gpu/buffers';
import { MATMUL_ACCUMULATE, MATMUL_BIAS } from '../../src/gpu/kernels';
import { SPARSE_MATMUL, sparseFormat } from '../../src/gpu/sparse';
import { uploadMatrix } from '../../src/gpu/weights';
import { nmBytes, packNm, unpackNm } from '../../src/model/dtypes/sparse-nm';
import type { Model } from '../../src/model/model';
import { layerName } from '../../src/model/names';
import { encode } from '../../src/model/dtype';
import { f32Tensor, makeTensor, numel } from '../../src/model/tensor';
import { magnitude, magnitudePrune } from '../../src/passes/prune/magnitude';
import { CpuRuntime, matmulT } from '../../src/runtime/cpu-reference';
import { WebGpuRuntime } from '../../src/runtime/webgpu';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff } from '../stories';
import { ctx, device, empty, expectClose, nativeKernels, random, read, runOnce, up, useGpu } from './setup';

useGpu([]);

const NATIVE = await nativeKernels();

describe('sparse N:M matmul vs unpackNm + matmulT', () => {
  // single-row kernels on decode; batch kernels on 11 rows (a full and a partial group of 8), with a partial
  // index word (172 inputs = 43 groups of 4) and an odd outDim. Every format on this adapter's kernel family;
  // the other family (forced) on 2:4 f32 only, as the formats share one WGSL source (N, M, F16 are constants).
  const SHAPES = { single: [1, 256, 70], batch: [11, 172, 37] } as const;
  for (const [n, m] of [[2, 4], [4, 8]] as const) for (const valueType of ['f32', 'f16'] as const) {
    const format = sparseFormat(n, m, valueType);
    const families = format === 'nm2_4_f32' ? (['gpu', 'cpu'] as const) : [NATIVE];
    for (const family of families) for (const variant of ['single', 'batch'] as const) {
      const kernel = SPARSE_MATMUL[format][family][variant];
      const [rows, inDim0, outDim] = SHAPES[variant];
      for (const flags of [MATMUL_BIAS, MATMUL_ACCUMULATE]) {
        const inDim = inDim0 - (inDim0 % m);
        it(`${kernel.label} ${rows}x${inDim} -> ${outDim}${flags === MATMUL_BIAS ? ', bias' : ', accumulate'}`, async () => {
          const floats = random(rows * 1000 + inDim + n + flags);
          const W = magnitudePrune(floats(outDim * inDim), outDim, inDim, { sparsity: 1 - n / m, nm: { n, m } });
          const packed = packNm(W, { n, m, valueType, rows: outDim, cols: inDim });
          const x = floats(rows * inDim), bias = floats(outDim), residual = floats(rows * outDim);
          const out = flags & MATMUL_ACCUMULATE ? up(residual) : empty(rows * outDim);
          await ctx.compile(kernel);
          await runOnce(kernel, { x: up(x), w: uploadBuffer(device, 'w', packed.words), bias: up(bias), out }, { rows, inDim, outDim, flags });
          const want = matmulT(x, unpackNm(packed), rows, inDim, outDim, flags & MATMUL_BIAS ? bias : undefined);
          if (flags & MATMUL_ACCUMULATE) for (let i = 0; i < want.length; i++) want[i] += residual[i];
          expectClose(await read(out, rows * outDim), want);
        });
      }
    }
  }

  it('uploadMatrix packs exactly-N:M f32/f16 parts (2:4 first), and leaves dense or mixed ones alone', () => {
    const floats = random(9);
    const a = magnitudePrune(floats(6 * 64), 6, 64, { sparsity: 0.5, nm: { n: 2, m: 4 } });
    const b = magnitudePrune(floats(2 * 64), 2, 64, { sparsity: 0.5, nm: { n: 2, m: 4 } });
    const w = uploadMatrix(device, 'qkv', [f32Tensor('a', [6, 64], a), f32Tensor('b', [2, 64], b)]);
    expect([w.format, w.shape]).toEqual(['nm2_4_f32', [8, 64]]);
    expect(w.buffer.size).toBe(nmBytes({ n: 2, m: 4, valueType: 'f32', rows: 8, cols: 64 }));
    const c = magnitudePrune(floats(4 * 64), 4, 64, { sparsity: 0.5, nm: { n: 4, m: 8 } });
    expect(uploadMatrix(device, 'c', [f32Tensor('c', [4, 64], c)]).format).toBe('nm4_8_f32');
    const h = uploadMatrix(device, 'h', [makeTensor('h', [6, 64], 'f16', encode('f16', a))]);
    expect([h.format, h.buffer.size]).toEqual(['nm2_4_f16', nmBytes({ n: 2, m: 4, valueType: 'f16', rows: 6, cols: 64 })]);
    expect(uploadMatrix(device, 'dense', [f32Tensor('d', [4, 64], floats(256))]).format).toBe('f32');
    expect(uploadMatrix(device, 'mixed', [f32Tensor('a', [6, 64], a), f32Tensor('d', [4, 64], floats(256))]).format).toBe('f32');
  });
});

describeWithShared('a 2:4-pruned stories260K on WebGpuRuntime (packed weights)', [STORIES.gguf], () => {
  let base: Model;
  beforeAll(async () => {
    base = await loadStoriesGguf();
  });

  it('logits match CpuRuntime (1e-3) and GPU memory shrinks by the packed saving', async () => {
    const pruned = await magnitude.apply(base, magnitude.params.parse({ pattern: '2:4' }), {});
    const dense = await WebGpuRuntime.create(device, base, { maxPositions: 64 });
    const denseBytes = dense.memoryBytes;
    dense.dispose();
    const gpu = await WebGpuRuntime.create(device, pruned, { maxPositions: 64 });
    const cpu = new CpuRuntime(pruned, { maxPositions: 64 });
    const prompt = [1, 403, 407, 261, 378, 410, 328, 271, 263, 309, 357, 345];
    try {
      let d = maxAbsDiff(await gpu.forward(prompt), await cpu.forward(prompt));
      for (const t of [5, 300]) d = Math.max(d, maxAbsDiff(await gpu.forward([t], { lastOnly: true }), await cpu.forward([t], { lastOnly: true })));
      // each layer's q|k|v, o, gate|up and down (172 inputs: whole groups of 4) go up packed
      let saved = 0;
      const groups = [['self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight'], ['self_attn.o_proj.weight'], ['mlp.gate_proj.weight', 'mlp.up_proj.weight'], ['mlp.down_proj.weight']] as const;
      for (let l = 0; l < base.config.numLayers; l++) {
        for (const g of groups) {
          const ts = g.map((name) => pruned.tensors.get(layerName(l, name))!);
          const rows = ts.reduce((s, t) => s + t.shape[0], 0), cols = ts[0].shape[1];
          saved += ts.reduce((s, t) => s + numel(t.shape) * 4, 0) - nmBytes({ n: 2, m: 4, valueType: 'f32', rows, cols });
        }
      }
      console.log(`stories260K 2:4 (magnitude): GPU vs CPU max|d| ${d.toExponential(2)}; GPU memory ${denseBytes} -> ${gpu.memoryBytes} B (block linears packed 2:4, f32 values)`);
      expect(d).toBeLessThanOrEqual(1e-3);
      expect(gpu.memoryBytes).toBe(denseBytes - saved);
    } finally {
      gpu.dispose();
    }
  });
});
