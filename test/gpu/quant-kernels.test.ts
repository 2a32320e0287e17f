// The dequantizing matmuls (one per quantized format, both kernel families) against the CPU oracle:
// toFloat32 (each format's reference decoder) then cpu-reference matmulT. Weights are random bytes with
// sane f16 scales, so every bit pattern of the levels is exercised (not only what an encoder emits).
// Tolerance: max |gpu - cpu| <= 1e-5 * max(1, max |cpu|): dequantization is exact in f32 on both sides
// (an f16 scale times a few-bit level), so only the summation order and precision differ.
// Then stories260K quantized by RTN runs on WebGpuRuntime and must match CpuRuntime on the same model.
import { beforeAll, describe, expect, it } from 'vitest';
import { MATMUL_ACCUMULATE, MATMUL_BIAS, QUANT_MATMUL, type QuantFormat } from '../../src/gpu/kernels';
import { rawBufferBytes, uploadMatrix, type MatmulKernels } from '../../src/gpu/weights';
import { DTYPES, byteSize, encode, type DTypeId } from '../../src/model/dtype';
import { f32ToF16 } from '../../src/model/half';
import type { Model } from '../../src/model/model';
import { layerName } from '../../src/model/names';
import { makeTensor, numel, toFloat32, type Tensor } from '../../src/model/tensor';
import { rtn } from '../../src/passes/quant';
import { CpuRuntime, matmulT } from '../../src/runtime/cpu-reference';
import { WebGpuRuntime } from '../../src/runtime/webgpu';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff } from '../stories';
import { ctx, device, empty, expectClose, mulberry32, nativeKernels, random, read, runOnce, up, useGpu } from './setup';

const FORMATS = Object.keys(QUANT_MATMUL) as QuantFormat[];

useGpu([]);

/**
 * A [rows, cols] tensor of random blocks: random level bytes, then each block's f16 fields (the scale at
 * byte 0; the offset or min at byte 2 for the asymmetric formats) set to finite values of a realistic size.
 */
function randomBlocks(dtype: DTypeId, rows: number, cols: number, seed: number): Tensor {
  const next = mulberry32(seed);
  const { blockBytes, symmetric } = DTYPES[dtype];
  const data = Uint8Array.from({ length: byteSize(dtype, rows * cols) }, () => Math.floor(next() * 256));
  const v = new DataView(data.buffer);
  for (let o = 0; o < data.length; o += blockBytes) {
    v.setUint16(o, f32ToF16((next() * 2 - 1) * 0.05), true);
    if (!symmetric) v.setUint16(o + 2, f32ToF16((next() * 2 - 1) * 0.5), true);
  }
  return makeTensor(`w_${dtype}`, [rows, cols], dtype, data);
}

/** Compare `kernel` with the oracle on one random problem; inDim = `blocks` blocks of the format. */
async function check(kernel: MatmulKernels['batch'], format: QuantFormat, rows: number, blocks: number, outDim: number, flags: number) {
  const inDim = blocks * DTYPES[format].blockSize;
  const seed = rows * 1009 + blocks * 31 + outDim;
  const wt = randomBlocks(format, outDim, inDim, seed);
  const floats = random(seed + 1);
  const x = floats(rows * inDim), bias = floats(outDim), residual = floats(rows * outDim);
  const w = uploadMatrix(device, 'w', [wt]);
  expect(w.format).toBe(format);
  const out = flags & MATMUL_ACCUMULATE ? up(residual) : empty(rows * outDim);
  await runOnce(kernel, { x: up(x), w: w.buffer, bias: up(bias), out }, { rows, inDim, outDim, flags });
  const want = matmulT(x, toFloat32(wt), rows, inDim, outDim, flags & MATMUL_BIAS ? bias : undefined);
  if (flags & MATMUL_ACCUMULATE) for (let i = 0; i < want.length; i++) want[i] += residual[i];
  expectClose(await read(out, rows * outDim), want);
}

// [rows, blocks along K, outDim]: decode, a few rows, a batch past the 4-row blocks; outDim odd, below a
// 64-wide tile, across one and across two
const SHAPES = [[1, 5, 70], [3, 3, 29], [17, 4, 130]] as const;

const NATIVE = await nativeKernels();

/**
 * Formats whose kernels of both families run here. The other int members share intn.wgsl with these
 * (BITS and GROUP are pipeline constants) and run the native family only: the forced tiled kernel takes
 * SwiftShader ~1.4 s to compile per format. This set covers every bit width, every group size (16: two
 * blocks per 32-wide K slice; 128: a slice inside a block) and 2-byte-aligned int blocks (int3_g16, 10 B).
 */
const BOTH_FAMILIES = new Set<QuantFormat>(['q8_0', 'q4_0', 'q4_1', 'q5_0', 'int2_g16', 'int3_g16', 'int3_g128', 'int4_g32', 'int8_g64']);

describe('dequantizing matmuls vs toFloat32 + matmulT (random blocks)', () => {
  for (const format of FORMATS) {
    const k = QUANT_MATMUL[format];
    const families = { gpu: [k.matmul, k.matvec], cpu: [k.matmulBlocked, k.matvecSerial] };
    const kernels = BOTH_FAMILIES.has(format) ? [...families.gpu, ...families.cpu] : families[NATIVE];
    describe(format, () => {
      beforeAll(() => ctx.compile(...kernels));
      for (const kernel of kernels) {
        for (const [rows, blocks, outDim] of SHAPES) {
          it(`${kernel.label} ${rows}x${blocks * DTYPES[format].blockSize} -> ${outDim}, with bias`, () =>
            check(kernel, format, rows, blocks, outDim, MATMUL_BIAS));
        }
        it(`${kernel.label} accumulates into the output (fused residual add)`, () => check(kernel, format, 2, 2, 9, MATMUL_ACCUMULATE));
      }
    });
  }
});

describe('uploadMatrix with quantized parts', () => {
  it('stacks parts of one format as one raw matrix (rows of whole blocks: bytes concatenate)', async () => {
    const parts = [randomBlocks('q4_0', 5, 64, 1), randomBlocks('q4_0', 3, 64, 2), randomBlocks('q4_0', 7, 64, 3)];
    const w = uploadMatrix(device, 'qkv', parts);
    expect([w.format, w.shape]).toEqual(['q4_0', [15, 64]]);
    expect(w.buffer.size).toBe(rawBufferBytes(15 * 2 * 18));
    const x = random(4)(2 * 64);
    const out = empty(2 * 15);
    await runOnce(QUANT_MATMUL.q4_0.matmulBlocked, { x: up(x), w: w.buffer, bias: empty(1), out }, { rows: 2, inDim: 64, outDim: 15, flags: 0 });
    const stacked = new Float32Array(15 * 64);
    parts.reduce((at, t) => (stacked.set(toFloat32(t), at), at + numel(t.shape)), 0);
    expectClose(await read(out, 30), matmulT(x, stacked, 2, 64, 15));
  });

  it('mixed formats (a mixed-precision q|k|v) meet in f32', () => {
    const w = uploadMatrix(device, 'qkv', [randomBlocks('q8_0', 4, 32, 1), randomBlocks('int4_g32', 2, 32, 2)]);
    expect([w.format, w.shape]).toEqual(['f32', [6, 32]]);
    expect(w.buffer.size).toBe(6 * 32 * 4);
  });

  it('rows that end inside a block are decoded to f32 (no raw kernel reads them)', () => {
    // 2 x 48 = 96 weights: whole int4_g32 blocks overall, but a row of 48 ends mid-block
    const t = makeTensor('w', [2, 48], 'int4_g32', encode('int4_g32', random(5)(96)));
    expect(uploadMatrix(device, 'w', [t]).format).toBe('f32');
  });
});

// ---- end to end: stories260K quantized by RTN, WebGpuRuntime vs CpuRuntime on the same model -------------

const MAX_POSITIONS = 64;
const V = 512;
const PROMPT = [1, 403, 407, 261, 378, 410, 328, 271, 263, 309, 357, 345, 290, 261, 292, 271, 267, 431, 352, 263];

/** GPU bytes a group of parts saves against f32: all of one quantized dtype with whole-block rows, else none. */
function savedBytes(parts: Tensor[]): number {
  const d = parts[0].dtype;
  if (!(d in QUANT_MATMUL) || parts.some((t) => t.dtype !== d) || parts[0].shape[1] % DTYPES[d].blockSize !== 0) return 0;
  const n = parts.reduce((s, t) => s + numel(t.shape), 0);
  return n * 4 - rawBufferBytes(parts.reduce((s, t) => s + t.data.byteLength, 0));
}

/** The matrices webgpu.ts uploads for each layer, as it stacks them. */
const GROUPS = [
  ['self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight'], ['self_attn.o_proj.weight'],
  ['mlp.gate_proj.weight', 'mlp.up_proj.weight'], ['mlp.down_proj.weight'],
] as const;

describeWithShared('stories260K quantized (RTN) on WebGpuRuntime vs CpuRuntime', [STORIES.gguf], () => {
  let base: Model;
  let f32Bytes: number;
  beforeAll(async () => {
    base = await loadStoriesGguf();
    const rt = await WebGpuRuntime.create(device, base, { maxPositions: MAX_POSITIONS });
    f32Bytes = rt.memoryBytes;
    rt.dispose();
  });

  // down_proj has 172 inputs, which no block divides: the pass keeps it f16 (f32 on the GPU).
  const cases: [string, Record<string, unknown>][] = [
    ['q8_0', { dtype: 'q8_0' }],
    ['q4_0', { dtype: 'q4_0' }],
    ['int4_g32', { dtype: 'int4_g32' }],
    // a mixed-precision plan: layer 0's q|k|v and layer 1's gate|up mix formats, so those groups go up as f32
    ['mixed q4_0 / q8_0 / int8_g32', { dtype: 'q4_0', overrides: { [layerName(0, 'self_attn.k_proj.weight')]: 'q8_0', [layerName(1, 'mlp.up_proj.weight')]: 'int8_g32' } }],
  ];
  for (const [name, params] of cases) for (const kernels of [undefined, NATIVE === 'cpu' ? 'gpu' : 'cpu'] as const) {
    it(`${name} (${kernels ? `forced ${kernels}` : 'native'} kernels): logits within 1e-3, GPU memory shrinks by the raw blocks`, async () => {
      const model = await rtn.apply(base, rtn.params.parse(params), {});
      const gpu = await WebGpuRuntime.create(device, model, { maxPositions: MAX_POSITIONS, kernels });
      const cpu = new CpuRuntime(model, { maxPositions: MAX_POSITIONS });
      try {
        // every row of a prompt (batched kernels), then single tokens (matvec kernels)
        let d = maxAbsDiff(await gpu.forward(PROMPT), await cpu.forward(PROMPT));
        for (const t of [5, 300, V - 1]) d = Math.max(d, maxAbsDiff(await gpu.forward([t], { lastOnly: true }), await cpu.forward([t], { lastOnly: true })));
        let saved = 0;
        for (let l = 0; l < model.config.numLayers; l++) {
          for (const g of GROUPS) saved += savedBytes(g.map((n) => model.tensors.get(layerName(l, n))!));
        }
        console.log(`stories260K ${name}: GPU vs CPU max|d| = ${d.toExponential(2)}; GPU memory ${gpu.memoryBytes} B (f32: ${f32Bytes} B)`);
        expect(d).toBeLessThanOrEqual(1e-3);
        expect(saved > 0).toBe(true);
        expect(gpu.memoryBytes).toBe(f32Bytes - saved);
      } finally {
        gpu.dispose();
      }
    });
  }
});
