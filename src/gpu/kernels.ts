// Every WGSL kernel of the forward pass, described once: params, buffers and launch grid.
// The WGSL is the source of truth for the math; the constants here feed its `override`s, so the
// grid arithmetic and the shader's workgroup size cannot drift apart.
import attentionChunkedWgsl from './kernels/attention/chunked.wgsl?raw';
import attentionIoWgsl from './kernels/attention/io.wgsl?raw';
import onlineSoftmaxWgsl from './kernels/attention/online-softmax.wgsl?raw';
import attentionSerialWgsl from './kernels/attention/serial.wgsl?raw';
import itemsWgsl from './kernels/items.wgsl?raw';
import ropePairWgsl from './kernels/rope-pair.wgsl?raw';
import sigmoidWgsl from './kernels/sigmoid.wgsl?raw';
import embeddingWgsl from './kernels/embedding.wgsl?raw';
import matmulIoWgsl from './kernels/matmul/io.wgsl?raw';
import matmulF32Wgsl from './kernels/matmul/f32.wgsl?raw';
import matvecWgsl from './kernels/matmul/matvec.wgsl?raw';
import tiledWgsl from './kernels/matmul/tiled.wgsl?raw';
import tiledQuantWgsl from './kernels/matmul/tiled-quant.wgsl?raw';
import tileFmaWgsl from './kernels/matmul/tile-fma.wgsl?raw';
import blockedWgsl from './kernels/matmul/blocked.wgsl?raw';
import blockF32Wgsl from './kernels/matmul/block-f32.wgsl?raw';
import blockQuantWgsl from './kernels/matmul/block-quant.wgsl?raw';
import storeBlockWgsl from './kernels/matmul/store-block.wgsl?raw';
import dotF32Wgsl from './kernels/matmul/dot-f32.wgsl?raw';
import dotVec4Wgsl from './kernels/matmul/dot-vec4.wgsl?raw';
import dotQuantWgsl from './kernels/matmul/dot-quant.wgsl?raw';
import reduceWgsl from './kernels/reduce.wgsl?raw';
import rmsnormWgsl from './kernels/rmsnorm.wgsl?raw';
import ropeKvWgsl from './kernels/rope-kv.wgsl?raw';
import swigluWgsl from './kernels/swiglu.wgsl?raw';
import dequantCommonWgsl from './kernels/dequant/common.wgsl?raw';
import dequantIntnWgsl from './kernels/dequant/intn.wgsl?raw';
import dequantNibblesWgsl from './kernels/dequant/nibbles.wgsl?raw';
import dequantQ4_0Wgsl from './kernels/dequant/q4_0.wgsl?raw';
import dequantQ4_1Wgsl from './kernels/dequant/q4_1.wgsl?raw';
import dequantQ5_0Wgsl from './kernels/dequant/q5_0.wgsl?raw';
import dequantQ8_0Wgsl from './kernels/dequant/q8_0.wgsl?raw';
import { INT_DTYPES, parseIntId, type IntDTypeId } from '../model/dtypes/intn';
import type { AdapterClass } from './device';
import { defineKernel, grid1d, split } from './kernel';

const WG = 256;

export const embedding = defineKernel({
  label: 'embedding', pieces: [embeddingWgsl, itemsWgsl], constants: { WG },
  params: { rows: 'u32', dim: 'u32' },
  buffers: { tokens: 'read', table: 'read', out: 'read_write' },
  grid: (p) => grid1d(p.rows * p.dim, WG),
});

const rmsNormWith = (label: string, wg: number) =>
  defineKernel({
    label, pieces: [rmsnormWgsl, reduceWgsl], constants: { WG: wg },
    params: { rows: 'u32', dim: 'u32', srcRow: 'u32', eps: 'f32' },
    buffers: { x: 'read', weight: 'read', out: 'read_write' },
    grid: (p) => [p.rows, 1, 1],
  });

/** One workgroup of 256 per row, tree-reduced sum of squares. */
export const rmsNorm = rmsNormWith('rmsnorm', WG);
/** One invocation per row, no reduction rounds: for CPU adapters (see matvecF32Serial). */
export const rmsNormSerial = rmsNormWith('rmsnorm_serial', 1);

/** matmul flags: add bias; accumulate into the output (fused residual add). */
export const MATMUL_BIAS = 1;
export const MATMUL_ACCUMULATE = 2;

const matmulParams = { rows: 'u32', inDim: 'u32', outDim: 'u32', flags: 'u32' } as const;
const matmulBuffers = { x: 'read', w: 'read', bias: 'read', out: 'read_write' } as const;
/** tile-fma.wgsl's output tile edge. */
const TILE = 64;

/**
 * The matmul bodies for batches, each completed by an io piece and an operand decoder (the f32 reads of
 * matmul/f32.wgsl, a quantized format, or training's strides): the shared tiled inner product and 4x4 block
 * epilogue come with them.
 */
export const MATMUL_BODY = {
  /** Tiled in workgroup memory, 64x64 outputs per workgroup (GPUs). */
  tiled: { pieces: [tiledWgsl, tileFmaWgsl, storeBlockWgsl], grid: (m: number, n: number): [number, number, number] => [Math.ceil(n / TILE), Math.ceil(m / TILE), 1] },
  /** 4x4 output blocks per invocation, no workgroup memory or barriers (CPU adapters: 3-9x faster on SwiftShader). */
  blocked: { pieces: [blockedWgsl, storeBlockWgsl], grid: (m: number, n: number) => grid1d(Math.ceil(n / 4) * Math.ceil(m / 4), 64) },
} as const;

/** Tiled y = x W^T for batches (f32 weights). */
export const matmulF32 = defineKernel({
  label: 'matmul_f32', pieces: [matmulIoWgsl, matmulF32Wgsl, ...MATMUL_BODY.tiled.pieces],
  params: matmulParams, buffers: matmulBuffers,
  grid: (p) => MATMUL_BODY.tiled.grid(p.rows, p.outDim),
});

/** For CPU adapters: 4x4 output blocks per invocation, no workgroup memory or barriers. */
export const matmulF32Blocked = defineKernel({
  label: 'matmul_f32_blocked', pieces: [matmulIoWgsl, matmulF32Wgsl, ...MATMUL_BODY.blocked.pieces, blockF32Wgsl], constants: { WG: 64 },
  params: matmulParams, buffers: matmulBuffers,
  grid: (p) => MATMUL_BODY.blocked.grid(p.rows, p.outDim),
});

/**
 * The same product for one (or a few) rows (decode): TPR invocations per output, RPW outputs per workgroup.
 * `decoder` reads the weights (matvec.wgsl's row_dot): f32, f32 as vec4, or a quantized format.
 */
const matvec = (label: string, decoder: readonly string[], TPR: number, RPW: number, constants: Record<string, number> = {}) =>
  defineKernel({
    label, pieces: [matmulIoWgsl, matvecWgsl, reduceWgsl, ...decoder], constants: { ...constants, TPR, RPW },
    params: matmulParams, buffers: matmulBuffers,
    grid: (p) => [...split(Math.ceil(p.outDim / RPW)), p.rows],
  });

/** For GPUs: 64 invocations share an output, so a warp reads consecutive weights. */
export const matvecF32 = matvec('matvec_f32', [matmulF32Wgsl, dotF32Wgsl], 64, 4);
/** matvecF32 with vec4 loads; needs inDim % 4 == 0. */
export const matvecF32Vec4 = matvec('matvec_f32_vec4', [dotVec4Wgsl], 64, 4);
/**
 * For CPU adapters (SwiftShader): one invocation per output and no reduction rounds; a workgroup
 * barrier costs a CPU rasterizer a fiber switch per invocation, which made the cooperative form ~50x slower.
 */
export const matvecF32Serial = matvec('matvec_f32_serial', [matmulF32Wgsl, dotF32Wgsl], 1, 64);

/** Block formats that matmuls read raw (dequantized on the fly): llama.cpp's and our int family. */
export type QuantFormat = 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | IntDTypeId;

/** A quantized format's decoder: pieces appended to a kernel body after dequant/common.wgsl, and its pipeline constants. */
interface Decoder { pieces: readonly string[]; constants?: Record<string, number> }

const DEQUANT: Record<QuantFormat, Decoder> = {
  q8_0: { pieces: [dequantQ8_0Wgsl] },
  q4_0: { pieces: [dequantNibblesWgsl, dequantQ4_0Wgsl] },
  q4_1: { pieces: [dequantNibblesWgsl, dequantQ4_1Wgsl] },
  q5_0: { pieces: [dequantNibblesWgsl, dequantQ5_0Wgsl] },
  ...(Object.fromEntries(Object.keys(INT_DTYPES).map((id) => {
    const { bits, group } = parseIntId(id)!;
    const decoder: Decoder = { pieces: [dequantIntnWgsl], constants: { BITS: bits, GROUP: group } };
    return [id, decoder];
  })) as Record<IntDTypeId, Decoder>),
};

export interface QuantMatmulKernels {
  /** Tiled, dequantizing into workgroup memory (GPUs, batches). */
  readonly matmul: typeof matmulF32;
  /** 4x4 blocks per invocation, no barriers (CPU adapters, batches). */
  readonly matmulBlocked: typeof matmulF32;
  /** 64 invocations per output (GPUs, one row). */
  readonly matvec: typeof matmulF32;
  /** One invocation per output (CPU adapters, one row). */
  readonly matvecSerial: typeof matmulF32;
}

function quantMatmulKernels(format: QuantFormat): QuantMatmulKernels {
  const { pieces, constants = {} } = DEQUANT[format];
  const decoder = [dequantCommonWgsl, ...pieces];
  return {
    // tiled-quant.wgsl stages decoded chunks in its own loop around tile-fma.wgsl, so it replaces tiled.wgsl
    matmul: defineKernel({
      label: `qmatmul_${format}`, pieces: [matmulIoWgsl, tiledQuantWgsl, tileFmaWgsl, storeBlockWgsl, ...decoder], constants,
      params: matmulParams, buffers: matmulBuffers,
      grid: (p) => MATMUL_BODY.tiled.grid(p.rows, p.outDim),
    }),
    matmulBlocked: defineKernel({
      label: `qmatmul_${format}_blocked`, pieces: [matmulIoWgsl, ...MATMUL_BODY.blocked.pieces, blockQuantWgsl, ...decoder], constants: { ...constants, WG: 64 },
      params: matmulParams, buffers: matmulBuffers,
      grid: (p) => MATMUL_BODY.blocked.grid(p.rows, p.outDim),
    }),
    // RPW 4 with TPR 64, as matvecF32; the serial form takes 64 outputs per workgroup like matvecF32Serial
    matvec: matvec(`qmatvec_${format}`, [dotQuantWgsl, ...decoder], 64, 4, constants),
    matvecSerial: matvec(`qmatvec_${format}_serial`, [dotQuantWgsl, ...decoder], 1, 64, constants),
  };
}

/**
 * The dequantizing matmuls of every quantized format, made once (pipelines are cached per Kernel object).
 * Not in ALL_KERNELS: a runtime compiles only the formats its weights use (weights.ts, MATMUL).
 */
export const QUANT_MATMUL = Object.fromEntries(
  (Object.keys(DEQUANT) as QuantFormat[]).map((f) => [f, quantMatmulKernels(f)]),
) as Record<QuantFormat, QuantMatmulKernels>;

/** RoPE on the q and k parts of the fused qkv projection; rotated k and plain v are appended to the KV cache. */
export const ropeKv = defineKernel({
  label: 'rope_kv', pieces: [ropeKvWgsl, ropePairWgsl, itemsWgsl], constants: { WG },
  params: { rows: 'u32', numHeads: 'u32', numKvHeads: 'u32', headDim: 'u32', startPos: 'u32', style: 'u32' },
  buffers: { qkv: 'read', table: 'read', q: 'read_write', kCache: 'read_write', vCache: 'read_write' },
  grid: (p) => grid1d((p.rows * (p.numHeads + p.numKvHeads) * p.headDim) / 2, WG),
});

/** Largest head the attention kernels hold in workgroup or private memory (MAX_HEAD_DIM in attention/io.wgsl). */
export const ATTENTION_MAX_HEAD_DIM = 256;

const attentionParams = { rows: 'u32', startPos: 'u32', numHeads: 'u32', numKvHeads: 'u32', headDim: 'u32', scale: 'f32' } as const;
const attentionBuffers = { q: 'read', kCache: 'read', vCache: 'read', out: 'read_write' } as const;

/** One workgroup per (head, row); keys in chunks of 64 with an online softmax. */
export const attention = defineKernel({
  label: 'attention', pieces: [attentionIoWgsl, attentionChunkedWgsl], constants: { WG: 64 },
  params: attentionParams, buffers: attentionBuffers,
  grid: (p) => [p.numHeads, p.rows, 1],
});

/** One invocation per (row, head), no barriers: for CPU adapters. */
export const attentionSerial = defineKernel({
  label: 'attention_serial', pieces: [attentionIoWgsl, attentionSerialWgsl, onlineSoftmaxWgsl, itemsWgsl], constants: { WG: 64 },
  params: attentionParams, buffers: attentionBuffers,
  grid: (p) => grid1d(p.rows * p.numHeads, 64),
});

/** silu(gate) * up over the fused gate|up projection. */
export const swiglu = defineKernel({
  label: 'swiglu', pieces: [swigluWgsl, sigmoidWgsl, itemsWgsl], constants: { WG },
  params: { rows: 'u32', dim: 'u32' },
  buffers: { gateUp: 'read', out: 'read_write' },
  grid: (p) => grid1d(p.rows * p.dim, WG),
});

export const ALL_KERNELS = [
  embedding, rmsNorm, rmsNormSerial, matmulF32, matmulF32Blocked, matvecF32, matvecF32Vec4, matvecF32Serial,
  ropeKv, attention, attentionSerial, swiglu,
];

/**
 * Steps whose best kernel depends on the adapter class: software adapters run each invocation on a
 * CPU thread and pay heavily for every workgroup barrier, so they get the barrier-free forms.
 * (Single-row matmuls are chosen per weight format and class in weights.ts.)
 */
export const KERNELS_BY_CLASS = {
  gpu: { rmsNorm, attention },
  cpu: { rmsNorm: rmsNormSerial, attention: attentionSerial },
} as const satisfies Record<AdapterClass, { rmsNorm: typeof rmsNorm; attention: typeof attention }>;
