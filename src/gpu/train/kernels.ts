// Every WGSL kernel of training (backward, losses, optimizer), described once as kernels.ts does for
// the forward. All of them are barrier-free (one invocation per output or per small block, walking
// their sums in a fixed order): software adapters (SwiftShader) pay a fiber switch per invocation at
// each workgroup barrier, and fixed-order sums make gradients bit-for-bit deterministic (no atomics).
import adamwWgsl from '../kernels/backward/adamw.wgsl?raw';
import attentionDkvWgsl from '../kernels/backward/attention-dkv.wgsl?raw';
import attentionDqWgsl from '../kernels/backward/attention-dq.wgsl?raw';
import attentionForwardWgsl from '../kernels/backward/attention-forward.wgsl?raw';
import attentionIoWgsl from '../kernels/backward/attention-io.wgsl?raw';
import attentionScoreWgsl from '../kernels/backward/attention-score.wgsl?raw';
import onlineSoftmaxWgsl from '../kernels/attention/online-softmax.wgsl?raw';
import itemsWgsl from '../kernels/items.wgsl?raw';
import ropePairWgsl from '../kernels/rope-pair.wgsl?raw';
import sigmoidWgsl from '../kernels/sigmoid.wgsl?raw';
import clipScaleWgsl from '../kernels/backward/clip-scale.wgsl?raw';
import crossEntropyWgsl from '../kernels/backward/cross-entropy.wgsl?raw';
import embeddingWgsl from '../kernels/backward/embedding.wgsl?raw';
import gradSumsqWgsl from '../kernels/backward/grad-sumsq.wgsl?raw';
import klDivergenceWgsl from '../kernels/backward/kl-divergence.wgsl?raw';
import klTopKWgsl from '../kernels/backward/kl-topk.wgsl?raw';
import maskGradWgsl from '../kernels/backward/mask-grad.wgsl?raw';
import matmulIoWgsl from '../kernels/backward/matmul-io.wgsl?raw';
import blockF32Wgsl from '../kernels/matmul/block-f32.wgsl?raw';
import rmsnormWeightWgsl from '../kernels/backward/rmsnorm-weight.wgsl?raw';
import rmsnormWgsl from '../kernels/backward/rmsnorm.wgsl?raw';
import ropeWgsl from '../kernels/backward/rope.wgsl?raw';
import swigluWgsl from '../kernels/backward/swiglu.wgsl?raw';
import { defineKernel, grid1d } from '../kernel';
import { MATMUL_BODY } from '../kernels';

/** Values per invocation of gradSumsq (its CHUNK). */
export const SUMSQ_CHUNK = 1024;
/** Target id that cross-entropy skips (no next token, padding). */
export const IGNORE_TARGET = 0xffffffff;
/** flags bit: add to the output instead of overwriting it. */
export const ACCUMULATE = 1;

const stridedParams = { M: 'u32', N: 'u32', K: 'u32', aRow: 'u32', aCol: 'u32', bRow: 'u32', bCol: 'u32', flags: 'u32' } as const;
const stridedBuffers = { a: 'read', b: 'read', c: 'read_write' } as const;

/** C (+)= A B through strides (A[m, k] = a[m aRow + k aCol], B[k, n] = b[k bRow + n bCol]); 4x4 blocks, no barriers (CPU adapters). */
export const matmulStrided = defineKernel({
  label: 'train_matmul', pieces: [matmulIoWgsl, ...MATMUL_BODY.blocked.pieces, blockF32Wgsl], constants: { WG: 64 },
  params: stridedParams, buffers: stridedBuffers,
  grid: (p) => MATMUL_BODY.blocked.grid(p.M, p.N),
});

/** The same product tiled in workgroup memory (GPUs). */
export const matmulStridedTiled = defineKernel({
  label: 'train_matmul_tiled', pieces: [matmulIoWgsl, ...MATMUL_BODY.tiled.pieces],
  params: stridedParams, buffers: stridedBuffers,
  grid: (p) => MATMUL_BODY.tiled.grid(p.M, p.N),
});

/** The backward matmul per adapter class (see KERNELS_BY_CLASS in ../kernels.ts). */
export const TRAIN_MATMUL = { gpu: matmulStridedTiled, cpu: matmulStrided } as const;

export const rmsNormBackward = defineKernel({
  label: 'rmsnorm_backward', pieces: [rmsnormWgsl, itemsWgsl], constants: { WG: 64 },
  params: { rows: 'u32', dim: 'u32', eps: 'f32', flags: 'u32' },
  buffers: { x: 'read', weight: 'read', dy: 'read', dx: 'read_write', rstd: 'read_write' },
  grid: (p) => grid1d(p.rows, 64),
});

/** Adds to dw (parameter gradients always accumulate). */
export const rmsNormWeightGrad = defineKernel({
  label: 'rmsnorm_weight_grad', pieces: [rmsnormWeightWgsl, itemsWgsl], constants: { WG: 64 },
  params: { rows: 'u32', dim: 'u32' },
  buffers: { x: 'read', dy: 'read', rstd: 'read', dw: 'read_write' },
  grid: (p) => grid1d(p.dim, 64),
});

/** RoPE in place on the q|k heads of fused rows; inverse = 1 is its backward. */
export const rope = defineKernel({
  label: 'train_rope', pieces: [ropeWgsl, ropePairWgsl, itemsWgsl], constants: { WG: 256 },
  params: { rows: 'u32', heads: 'u32', headDim: 'u32', rowStride: 'u32', seqLen: 'u32', style: 'u32', inverse: 'u32' },
  buffers: { table: 'read', x: 'read_write' },
  grid: (p) => grid1d((p.rows * p.heads * p.headDim) / 2, 256),
});

const attentionParams = { rows: 'u32', seqLen: 'u32', numHeads: 'u32', numKvHeads: 'u32', headDim: 'u32', scale: 'f32' } as const;

/** Causal GQA attention over fused q|k|v rows of a batch of sequences, saving log-sum-exps. */
export const attentionForward = defineKernel({
  label: 'train_attention', pieces: [attentionIoWgsl, attentionForwardWgsl, onlineSoftmaxWgsl, itemsWgsl], constants: { WG: 64 },
  params: attentionParams,
  buffers: { qkv: 'read', out: 'read_write', lse: 'read_write' },
  grid: (p) => grid1d(p.rows * p.numHeads, 64),
});

export const attentionBackwardQ = defineKernel({
  label: 'attention_backward_q', pieces: [attentionIoWgsl, attentionDqWgsl, attentionScoreWgsl, itemsWgsl], constants: { WG: 64 },
  params: attentionParams,
  buffers: { qkv: 'read', out: 'read', dOut: 'read', lse: 'read', dqkv: 'read_write', delta: 'read_write' },
  grid: (p) => grid1d(p.rows * p.numHeads, 64),
});

export const attentionBackwardKv = defineKernel({
  label: 'attention_backward_kv', pieces: [attentionIoWgsl, attentionDkvWgsl, attentionScoreWgsl, itemsWgsl], constants: { WG: 64 },
  params: attentionParams,
  buffers: { qkv: 'read', dOut: 'read', lse: 'read', delta: 'read', dqkv: 'read_write' },
  grid: (p) => grid1d(p.rows * p.numKvHeads, 64),
});

export const swigluBackward = defineKernel({
  label: 'swiglu_backward', pieces: [swigluWgsl, sigmoidWgsl, itemsWgsl], constants: { WG: 256 },
  params: { rows: 'u32', dim: 'u32' },
  buffers: { gateUp: 'read', dAct: 'read', dGateUp: 'read_write' },
  grid: (p) => grid1d(p.rows * p.dim, 256),
});

/** Scatter-add of row gradients into the embedding table, grouped by token on the CPU (embeddingIndex). */
export const embeddingBackward = defineKernel({
  label: 'embedding_backward', pieces: [embeddingWgsl, itemsWgsl], constants: { WG: 256 },
  params: { uniques: 'u32', dim: 'u32' },
  buffers: { index: 'read', dx: 'read', dTable: 'read_write' },
  grid: (p) => grid1d(p.uniques * p.dim, 256),
});

export const crossEntropy = defineKernel({
  label: 'cross_entropy', pieces: [crossEntropyWgsl, itemsWgsl], constants: { WG: 64 },
  params: { rows: 'u32', vocab: 'u32', weight: 'f32', flags: 'u32' },
  buffers: { logits: 'read', targets: 'read', dLogits: 'read_write', loss: 'read_write' },
  grid: (p) => grid1d(p.rows, 64),
});

export const klDivergence = defineKernel({
  label: 'kl_divergence', pieces: [klDivergenceWgsl, itemsWgsl], constants: { WG: 64 },
  params: { rows: 'u32', vocab: 'u32', temperature: 'f32', weight: 'f32', flags: 'u32' },
  buffers: { logits: 'read', teacher: 'read', mask: 'read', dLogits: 'read_write', loss: 'read_write' },
  grid: (p) => grid1d(p.rows, 64),
});

/** KL to cached top-k teacher logits (ids and values per row), as klBackward with TopKLogits. */
export const klTopK = defineKernel({
  label: 'kl_topk', pieces: [klTopKWgsl, itemsWgsl], constants: { WG: 64 },
  params: { rows: 'u32', vocab: 'u32', k: 'u32', temperature: 'f32', weight: 'f32', flags: 'u32' },
  buffers: { logits: 'read', ids: 'read', teacher: 'read', dLogits: 'read_write', loss: 'read_write' },
  grid: (p) => grid1d(p.rows, 64),
});

export const gradSumsq = defineKernel({
  label: 'grad_sumsq', pieces: [gradSumsqWgsl, itemsWgsl], constants: { WG: 64, CHUNK: SUMSQ_CHUNK },
  params: { count: 'u32', first: 'u32' },
  buffers: { grad: 'read', partials: 'read_write' },
  grid: (p) => grid1d(Math.ceil(p.count / SUMSQ_CHUNK), 64),
});

export const clipScale = defineKernel({
  label: 'clip_scale', pieces: [clipScaleWgsl],
  params: { count: 'u32', maxNorm: 'f32' },
  buffers: { partials: 'read', out: 'read_write' },
  grid: () => [1, 1, 1],
});

export const adamw = defineKernel({
  label: 'adamw', pieces: [adamwWgsl, itemsWgsl], constants: { WG: 256 },
  params: { count: 'u32', lr: 'f32', beta1: 'f32', beta2: 'f32', eps: 'f32', weightDecay: 'f32', bc1: 'f32', bc2: 'f32' },
  buffers: { grad: 'read', clip: 'read', w: 'read_write', m: 'read_write', v: 'read_write' },
  grid: (p) => grid1d(p.count, 256),
});

/** Zero the gradient where a bit of the mask is clear (pruned weights stay pruned). */
export const maskGrad = defineKernel({
  label: 'mask_grad', pieces: [maskGradWgsl, itemsWgsl], constants: { WG: 256 },
  params: { count: 'u32' },
  buffers: { mask: 'read', grad: 'read_write' },
  grid: (p) => grid1d(p.count, 256),
});

/** Bit i set where values[i] != 0, 32 per word (maskGrad's mask). */
export function nonzeroMask(values: Float32Array): Uint32Array<ArrayBuffer> {
  const mask = new Uint32Array(Math.ceil(values.length / 32));
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) mask[i >>> 5] |= 1 << (i & 31);
  return mask;
}

export const TRAIN_KERNELS = [
  matmulStrided, matmulStridedTiled, rmsNormBackward, rmsNormWeightGrad, rope, attentionForward, attentionBackwardQ, attentionBackwardKv,
  swigluBackward, embeddingBackward, crossEntropy, klDivergence, klTopK, gradSumsq, clipScale, adamw, maskGrad,
];

/**
 * Rows grouped by token for embeddingBackward: [ids (U) | starts (U + 1) | rows (N)], where unique
 * token ids[u] owns rows[starts[u] .. starts[u + 1]), rows ascending (a fixed summation order).
 */
export function embeddingIndex(tokens: ArrayLike<number>): { index: Uint32Array<ArrayBuffer>; uniques: number } {
  const byToken = new Map<number, number[]>();
  for (let r = 0; r < tokens.length; r++) {
    const rows = byToken.get(tokens[r]);
    if (rows) rows.push(r);
    else byToken.set(tokens[r], [r]);
  }
  const ids = [...byToken.keys()].sort((a, b) => a - b);
  const U = ids.length;
  const index = new Uint32Array(2 * U + 1 + tokens.length);
  let at = 0;
  ids.forEach((id, u) => {
    index[u] = id;
    index[U + u] = at;
    for (const r of byToken.get(id)!) index[2 * U + 1 + at++] = r;
  });
  index[2 * U] = at;
  return { index, uniques: U };
}
