// Every WGSL kernel of the forward pass, described once: params, buffers and launch grid.
// The WGSL is the source of truth for the math; the constants here feed its `override`s, so the
// grid arithmetic and the shader's workgroup size cannot drift apart.
import attentionWgsl from './kernels/attention.wgsl?raw';
import embeddingWgsl from './kernels/embedding.wgsl?raw';
import kvWriteWgsl from './kernels/kv-write.wgsl?raw';
import matmulWgsl from './kernels/matmul.wgsl?raw';
import matvecWgsl from './kernels/matvec.wgsl?raw';
import rmsnormWgsl from './kernels/rmsnorm.wgsl?raw';
import ropeWgsl from './kernels/rope.wgsl?raw';
import swigluWgsl from './kernels/swiglu.wgsl?raw';
import { defineKernel, grid1d, split } from './kernel';

const WG = 256;

export const embedding = defineKernel({
  label: 'embedding', code: embeddingWgsl, constants: { WG },
  params: { rows: 'u32', dim: 'u32' },
  buffers: { tokens: 'read', table: 'read', out: 'read_write' },
  grid: (p) => grid1d(p.rows * p.dim, WG),
});

export const rmsNorm = defineKernel({
  label: 'rmsnorm', code: rmsnormWgsl, constants: { WG },
  params: { rows: 'u32', dim: 'u32', srcRow: 'u32', eps: 'f32' },
  buffers: { x: 'read', weight: 'read', out: 'read_write' },
  grid: (p) => [p.rows, 1, 1],
});

/** matmul flags: add bias; accumulate into the output (fused residual add). */
export const MATMUL_BIAS = 1;
export const MATMUL_ACCUMULATE = 2;

const matmulParams = { rows: 'u32', inDim: 'u32', outDim: 'u32', flags: 'u32' } as const;
const matmulBuffers = { x: 'read', w: 'read', bias: 'read', out: 'read_write' } as const;
const TILE = 64; // matmul.wgsl's output tile edge
const RPW = 4; // matvec outputs per workgroup

/** Tiled y = x W^T for batches (f32 weights). */
export const matmulF32 = defineKernel({
  label: 'matmul_f32', code: matmulWgsl,
  params: matmulParams, buffers: matmulBuffers,
  grid: (p) => [Math.ceil(p.outDim / TILE), Math.ceil(p.rows / TILE), 1],
});

/** The same product for one (or a few) rows: decode. */
export const matvecF32 = defineKernel({
  label: 'matvec_f32', code: matvecWgsl, constants: { TPR: 64, RPW },
  params: matmulParams, buffers: matmulBuffers,
  grid: (p) => [...split(Math.ceil(p.outDim / RPW)), p.rows],
});

export const rope = defineKernel({
  label: 'rope', code: ropeWgsl, constants: { WG },
  params: { rows: 'u32', numHeads: 'u32', headDim: 'u32', startPos: 'u32', style: 'u32' },
  buffers: { x: 'read_write', table: 'read' },
  grid: (p) => grid1d((p.rows * p.numHeads * p.headDim) / 2, WG),
});

export const kvWrite = defineKernel({
  label: 'kv_write', code: kvWriteWgsl, constants: { WG },
  params: { rows: 'u32', kvDim: 'u32', startPos: 'u32' },
  buffers: { k: 'read', v: 'read', kCache: 'read_write', vCache: 'read_write' },
  grid: (p) => grid1d(p.rows * p.kvDim, WG),
});

/** Largest head the attention kernel holds in workgroup memory (MAX_HEAD_DIM in attention.wgsl). */
export const ATTENTION_MAX_HEAD_DIM = 256;

export const attention = defineKernel({
  label: 'attention', code: attentionWgsl, constants: { WG: 64 },
  params: { rows: 'u32', startPos: 'u32', numHeads: 'u32', numKvHeads: 'u32', headDim: 'u32', scale: 'f32' },
  buffers: { q: 'read', kCache: 'read', vCache: 'read', out: 'read_write' },
  grid: (p) => [p.numHeads, p.rows, 1],
});

export const swiglu = defineKernel({
  label: 'swiglu', code: swigluWgsl, constants: { WG },
  params: { n: 'u32' },
  buffers: { gate: 'read_write', up: 'read' },
  grid: (p) => grid1d(p.n, WG),
});

export const ALL_KERNELS = [embedding, rmsNorm, matmulF32, matvecF32, rope, kvWrite, attention, swiglu];
