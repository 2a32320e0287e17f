// The training graph for a fixed batch shape (sequences x seqLen rows): activation buffers saved by
// the forward, gradient scratch, and every dispatch of forward + loss + backward, bound once. The
// forward is the inference runtime's math (same kernels for embedding, RMSNorm, matmul, SwiGLU) with
// a batch of sequences each from position 0, keeping what the backward reads. The backward follows
// src/passes/distill/model-grad.ts (the CPU oracle) step for step; weight gradients accumulate into
// the TrainParams gradient buffers, so several micro-batches add up before an optimizer step.
import type { ModelConfig } from '../../model/config';
import { storageBuffer, uploadBuffer } from '../buffers';
import type { GpuContext } from '../context';
import type { AdapterClass } from '../device';
import { Dispatch } from '../dispatch';
import type { Kernel, KernelBuffers, KernelParams } from '../kernel';
import { KERNELS_BY_CLASS, MATMUL_ACCUMULATE, MATMUL_BIAS, embedding, swiglu } from '../kernels';
import { ropeTable } from '../rope-table';
import type { UniformArena } from '../uniforms';
import { MATMUL } from '../weights';
import * as T from './kernels';
import { fusedDims, type ParamGroup, type TrainParams } from './params';

/** One recorded operation: a dispatch (inside a compute pass) or a buffer copy (outside one). */
export type Op = { dispatch: Dispatch<Kernel>; params: Record<string, number> } | { copy: [GPUBuffer, GPUBuffer, number] };

export interface GraphShape {
  sequences: number;
  seqLen: number;
  /** k of cached top-k teacher logits (0: none; full teacher logits are always possible). */
  teacherTopK: number;
}

export class TrainGraph {
  readonly rows: number;
  readonly tokens: GPUBuffer;
  readonly targets: GPUBuffer;
  readonly mask: GPUBuffer;
  /** Top-k teacher logits: [rows, k] vocabulary ids and values. */
  readonly teacherTopIds: GPUBuffer;
  readonly teacherTop: GPUBuffer;
  readonly embedIndex: GPUBuffer;
  /** Per-row cross-entropy and KL losses, as the loss kernels leave them. */
  readonly ceLoss: GPUBuffer;
  readonly klLoss: GPUBuffer;
  private readonly buffers: GPUBuffer[] = [];
  private readonly forwardOps: Op[] = [];
  private readonly backwardOps: Op[] = [];
  private readonly ce: Dispatch<typeof T.crossEntropy>;
  /** Full teacher logits [rows, vocab] and their KL dispatch, made on first use (as large as the logits). */
  private fullTeacher?: { buffer: GPUBuffer; kl: Dispatch<typeof T.klDivergence> };
  private readonly logits: GPUBuffer;
  private readonly dLogits: GPUBuffer;
  private readonly klTopK: Dispatch<typeof T.klTopK>;
  private readonly embedBackward: Dispatch<typeof T.embeddingBackward>;

  constructor(
    private readonly ctx: GpuContext, private readonly arena: UniformArena,
    readonly config: ModelConfig, readonly shape: GraphShape, params: TrainParams, kernels: AdapterClass,
  ) {
    const c = config;
    const N = (this.rows = shape.sequences * shape.seqLen);
    const D = c.hiddenSize, F = c.intermediateSize, V = c.vocabSize, H = c.numHeads;
    const { qDim, qkvDim } = fusedDims(c);
    const eps = c.rmsNormEps;
    const device = ctx.device;
    const buf = (label: string, floats: number) => {
      const b = storageBuffer(device, label, floats * 4);
      this.buffers.push(b);
      return b;
    };
    const byClass = KERNELS_BY_CLASS[kernels];
    const matmul = MATMUL.f32[kernels].batch;
    const matmulBack = T.TRAIN_MATMUL[kernels];
    const d = <K extends Kernel>(kernel: K, b: KernelBuffers<K>) => new Dispatch(ctx, arena, kernel, b);
    const fwd = <K extends Kernel>(kernel: K, b: KernelBuffers<K>, p: KernelParams<K>) =>
      this.forwardOps.push({ dispatch: d(kernel, b), params: p });
    const bwd = <K extends Kernel>(kernel: K, b: KernelBuffers<K>, p: KernelParams<K>) =>
      this.backwardOps.push({ dispatch: d(kernel, b), params: p });
    const noBias = buf('no_bias', 1);
    let onesBuf: GPUBuffer | undefined;
    const ones = () => {
      if (!onesBuf) this.buffers.push((onesBuf = uploadBuffer(device, 'ones', new Float32Array(N).fill(1))));
      return onesBuf;
    };
    /** y (+)= x W^T (+ b) over N rows (forward). */
    const linear = (x: GPUBuffer, w: ParamGroup, out: GPUBuffer, inDim: number, outDim: number, accumulate: boolean, bias?: ParamGroup) =>
      fwd(matmul, { x, w: w.fw, bias: bias?.fw ?? noBias, out }, {
        rows: N, inDim, outDim, flags: (accumulate ? MATMUL_ACCUMULATE : 0) | (bias ? MATMUL_BIAS : 0),
      });
    /** dx = dy W (overwrite) and dW += dy^T x, for y = x W^T with W [outDim, inDim]. */
    const linearBackward = (dy: GPUBuffer, x: GPUBuffer, w: ParamGroup, dx: GPUBuffer, inDim: number, outDim: number) => {
      bwd(matmulBack, { a: dy, b: w.fw, c: dx }, { M: N, N: inDim, K: outDim, aRow: outDim, aCol: 1, bRow: inDim, bCol: 1, flags: 0 });
      bwd(matmulBack, { a: dy, b: x, c: w.grad }, { M: outDim, N: inDim, K: N, aRow: 1, aCol: outDim, bRow: inDim, bCol: 1, flags: T.ACCUMULATE });
    };
    /** dx (+)= RMSNorm backward of dy at x; dWeight += its weight gradient. */
    const normBackward = (x: GPUBuffer, w: ParamGroup, dy: GPUBuffer, dx: GPUBuffer, accumulate: boolean) => {
      bwd(T.rmsNormBackward, { x, weight: w.fw, dy, dx, rstd }, { rows: N, dim: D, eps, flags: accumulate ? T.ACCUMULATE : 0 });
      bwd(T.rmsNormWeightGrad, { x, dy, rstd, dw: w.grad }, { rows: N, dim: D });
    };

    this.tokens = buf('tokens', N);
    this.targets = buf('targets', N);
    this.mask = buf('kl_mask', N);
    this.teacherTopIds = buf('teacher_top_ids', N * shape.teacherTopK);
    this.teacherTop = buf('teacher_top_logits', N * shape.teacherTopK);
    this.embedIndex = buf('embed_index', 3 * N + 1);
    this.ceLoss = buf('ce_loss', N);
    this.klLoss = buf('kl_loss', N);
    const table = uploadBuffer(device, 'rope_table', ropeTable(shape.seqLen, c.headDim, c.ropeTheta));
    this.buffers.push(table);
    const attn = { rows: N, seqLen: shape.seqLen, numHeads: H, numKvHeads: c.numKvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim) };
    const rope = { rows: N, heads: H + c.numKvHeads, headDim: c.headDim, rowStride: qkvDim, seqLen: shape.seqLen, style: c.ropeStyle === 'interleaved' ? 0 : 1 };

    // Forward, saving each layer's activations.
    const saved = params.layers.map((_, l) => ({
      xIn: buf(`l${l}.x_in`, N * D), h: buf(`l${l}.h`, N * D), qkv: buf(`l${l}.qkv`, N * qkvDim),
      att: buf(`l${l}.att`, N * qDim), lse: buf(`l${l}.lse`, N * H), xMid: buf(`l${l}.x_mid`, N * D),
      h2: buf(`l${l}.h2`, N * D), gateUp: buf(`l${l}.gate_up`, N * 2 * F), act: buf(`l${l}.act`, N * F),
    }));
    const xFinal = buf('x_final', N * D), hidden = buf('hidden', N * D), logits = (this.logits = buf('logits', N * V));
    fwd(embedding, { tokens: this.tokens, table: params.embed.fw, out: saved[0]?.xIn ?? xFinal }, { rows: N, dim: D });
    params.layers.forEach((w, l) => {
      const s = saved[l];
      const xOut = saved[l + 1]?.xIn ?? xFinal;
      fwd(byClass.rmsNorm, { x: s.xIn, weight: w.attnNorm.fw, out: s.h }, { rows: N, dim: D, srcRow: 0, eps });
      linear(s.h, w.qkv, s.qkv, D, qkvDim, false, w.qkvBias);
      fwd(T.rope, { table, x: s.qkv }, { ...rope, inverse: 0 });
      fwd(T.attentionForward, { qkv: s.qkv, out: s.att, lse: s.lse }, attn);
      this.forwardOps.push({ copy: [s.xIn, s.xMid, N * D * 4] });
      linear(s.att, w.o, s.xMid, qDim, D, true);
      fwd(byClass.rmsNorm, { x: s.xMid, weight: w.ffnNorm.fw, out: s.h2 }, { rows: N, dim: D, srcRow: 0, eps });
      linear(s.h2, w.gateUp, s.gateUp, D, 2 * F, false);
      fwd(swiglu, { gateUp: s.gateUp, out: s.act }, { rows: N, dim: F });
      this.forwardOps.push({ copy: [s.xMid, xOut, N * D * 4] });
      linear(s.act, w.down, xOut, F, D, true);
    });
    fwd(byClass.rmsNorm, { x: xFinal, weight: params.finalNorm.fw, out: hidden }, { rows: N, dim: D, srcRow: 0, eps });
    linear(hidden, params.lmHead, logits, D, V, false);

    // Losses (recorded per batch: which terms apply depends on its data).
    const dLogits = (this.dLogits = buf('d_logits', N * V));
    this.ce = d(T.crossEntropy, { logits, targets: this.targets, dLogits, loss: this.ceLoss });
    this.klTopK = d(T.klTopK, { logits, ids: this.teacherTopIds, teacher: this.teacherTop, dLogits, loss: this.klLoss });

    // Backward.
    const dx = buf('d_x', N * D), dh = buf('d_h', N * D), rstd = buf('rstd', N);
    const dAct = buf('d_act', N * F), dGateUp = buf('d_gate_up', N * 2 * F), dAtt = buf('d_att', N * qDim);
    const dqkv = buf('d_qkv', N * qkvDim), delta = buf('delta', N * H);
    linearBackward(dLogits, hidden, params.lmHead, dh, D, V);
    normBackward(xFinal, params.finalNorm, dh, dx, false);
    for (let l = params.layers.length - 1; l >= 0; l--) {
      const w = params.layers[l], s = saved[l];
      linearBackward(dx, s.act, w.down, dAct, F, D);
      bwd(T.swigluBackward, { gateUp: s.gateUp, dAct, dGateUp }, { rows: N, dim: F });
      linearBackward(dGateUp, s.h2, w.gateUp, dh, D, 2 * F);
      normBackward(s.xMid, w.ffnNorm, dh, dx, true);
      linearBackward(dx, s.att, w.o, dAtt, qDim, D);
      bwd(T.attentionBackwardQ, { qkv: s.qkv, out: s.att, dOut: dAtt, lse: s.lse, dqkv, delta }, attn);
      bwd(T.attentionBackwardKv, { qkv: s.qkv, dOut: dAtt, lse: s.lse, delta, dqkv }, attn);
      bwd(T.rope, { table, x: dqkv }, { ...rope, inverse: 1 });
      // the bias gradient is dqkv summed over rows: ones[1, N] dqkv
      if (w.qkvBias) bwd(matmulBack, { a: ones(), b: dqkv, c: w.qkvBias.grad }, { M: 1, N: qkvDim, K: N, aRow: N, aCol: 1, bRow: qkvDim, bCol: 1, flags: T.ACCUMULATE });
      linearBackward(dqkv, s.h, w.qkv, dh, D, qkvDim);
      normBackward(s.xIn, w.attnNorm, dh, dx, true);
    }
    this.embedBackward = d(T.embeddingBackward, { index: this.embedIndex, dx, dTable: params.embed.grad });
  }

  /** Queue the upload of full teacher logits [rows, vocab] for the next record(). */
  uploadTeacher(logits: Float32Array) {
    if (!this.fullTeacher) {
      const buffer = storageBuffer(this.ctx.device, 'teacher_logits', logits.byteLength);
      this.buffers.push(buffer);
      const kl = new Dispatch(this.ctx, this.arena, T.klDivergence, { logits: this.logits, teacher: buffer, mask: this.mask, dLogits: this.dLogits, loss: this.klLoss });
      this.fullTeacher = { buffer, kl };
    }
    this.ctx.device.queue.writeBuffer(this.fullTeacher.buffer, 0, logits.buffer, logits.byteOffset, logits.byteLength);
    this.ctx.device.queue.writeBuffer(this.mask, 0, new Uint32Array(this.rows).fill(1));
  }

  /**
   * Forward, losses and backward of the uploaded batch. ceWeight / klWeight scale each loss's
   * gradient (the mean's 1 / count and the term's weight); a zero weight leaves that term out.
   */
  record(enc: GPUCommandEncoder, loss: { ceWeight: number; klWeight: number; temperature: number; topK: boolean }, embedUniques: number) {
    const c = this.config;
    const lossOps: Op[] = [];
    if (loss.ceWeight > 0) lossOps.push({ dispatch: this.ce, params: { rows: this.rows, vocab: c.vocabSize, weight: loss.ceWeight, flags: 0 } });
    if (loss.klWeight > 0) {
      const kl = { rows: this.rows, vocab: c.vocabSize, temperature: loss.temperature, weight: loss.klWeight, flags: loss.ceWeight > 0 ? T.ACCUMULATE : 0 };
      lossOps.push(loss.topK
        ? { dispatch: this.klTopK, params: { ...kl, k: this.shape.teacherTopK } }
        : { dispatch: this.fullTeacher!.kl, params: kl });
    }
    if (lossOps.length === 0) throw new Error('training step with no loss: give targets (cross-entropy) or teacher logits (KL)');
    const embed: Op = { dispatch: this.embedBackward, params: { uniques: embedUniques, dim: c.hiddenSize } };
    recordOps(enc, this.arena, [...this.forwardOps, ...lossOps, ...this.backwardOps, embed]);
  }

  destroy() {
    for (const b of this.buffers) b.destroy();
  }
}

/** Dispatches grouped into compute passes, split where a copy has to run between them. */
export function recordOps(enc: GPUCommandEncoder, arena: UniformArena, ops: Op[]) {
  let pass: GPUComputePassEncoder | undefined;
  for (const op of ops) {
    if ('copy' in op) {
      pass?.end();
      pass = undefined;
      enc.copyBufferToBuffer(op.copy[0], 0, op.copy[1], 0, op.copy[2]);
    } else {
      pass ??= enc.beginComputePass({ label: 'train' });
      op.dispatch.record(pass, op.params);
    }
  }
  pass?.end();
  arena.flush();
}
