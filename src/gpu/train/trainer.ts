// Training on WebGPU: forward with saved activations, next-token cross-entropy and/or KL to teacher
// logits, backward through every layer, global-norm clipping and AdamW, for f32 masters of any model
// the runtime loads (q/k/v biases included). A step takes one or more micro-batches (gradient accumulation),
// each `sequences` rows of `seqLen` tokens; losses come back per step, weights on request. Tensors named in
// `fakeQuant` train straight-through their stored dtype (fake-quant.ts) and are exported in it.
import type { DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import type { TopKLogits } from '../../passes/distill/ops';
import { withTrainedWeights } from '../../passes/distill/params';
import { stagingBuffer } from '../buffers';
import { GpuContext } from '../context';
import type { AdapterClass } from '../device';
import { ATTENTION_MAX_HEAD_DIM, KERNELS_BY_CLASS, embedding, swiglu } from '../kernels';
import { UniformArena } from '../uniforms';
import { MATMUL } from '../weights';
import { fakeQuantKernels, fakeQuantOps } from './fake-quant';
import { TrainGraph, recordOps, type Op } from './graph';
import { ADAMW_DEFAULTS, GpuAdamW, type AdamWOptions } from './optimizer';
import { IGNORE_TARGET, TRAIN_KERNELS, embeddingIndex } from './kernels';
import { TrainParams } from './params';

export interface GpuTrainerOptions {
  /** Sequences per micro-batch. */
  sequences: number;
  /** Tokens per sequence (each sequence starts at position 0). */
  seqLen: number;
  adamw?: Partial<AdamWOptions>;
  /** Weight of the cross-entropy term (where a batch has targets); default 1. */
  ceWeight?: number;
  /** Weight of the KL term (where a batch has teacher logits); default 1. */
  klWeight?: number;
  /** Distillation temperature; default 1. */
  temperature?: number;
  /** k of the top-k teacher logits batches may carry (teacherTopK); 0 (default): full teacher logits only. */
  teacherTopK?: number;
  /** Weights of layer matrices that are exactly zero stay zero (a pruned student keeps its sparsity). */
  keepSparsity?: boolean;
  /**
   * Tensor name -> the dtype its forward weights are fake-quantized through (straight-through, as the CPU
   * trainer's fakeQuant; storedDTypes() gives a quantized student's). Without it every weight trains as f32.
   */
  fakeQuant?: ReadonlyMap<string, DTypeId>;
  /** Kernel family; default from the adapter. */
  kernels?: AdapterClass;
}

export interface TrainBatch {
  /** sequences * seqLen token ids, sequence after sequence. */
  tokens: ArrayLike<number>;
  /** The token each row should predict (negative: no target); omit for distillation only. */
  targets?: ArrayLike<number>;
  /** The teacher's logits for every row, [sequences * seqLen, vocab]. */
  teacherLogits?: Float32Array;
  /** Or only its k largest per row (topKLogits), k as the trainer's teacherTopK. */
  teacherTopK?: TopKLogits;
}

export interface StepLoss {
  /** ceWeight * ce + klWeight * kl over the step's micro-batches (before the update). */
  loss: number;
  /** Mean next-token cross-entropy over rows with a target (NaN without targets or at weight 0). */
  ce: number;
  /** Mean T^2 KL(teacher || student) over rows (NaN without teacher logits or at weight 0). */
  kl: number;
}

export interface StepResult extends StepLoss {
  /** Global L2 norm of the gradient, before clipping. */
  gradNorm: number;
}

export class GpuTrainer {
  readonly params: TrainParams;
  readonly kernels: AdapterClass;
  private readonly graph: TrainGraph;
  private readonly optimizer: GpuAdamW;
  private readonly staging: GPUBuffer;
  private readonly arena: UniformArena;
  /** Rewrites the fake-quantized forward weights from the masters (empty without fakeQuant). */
  private readonly fakeOps: Op[];
  /** fakeQuant without its f32 entries: the tensors that train straight-through a format. */
  private readonly quantized: ReadonlyMap<string, DTypeId>;
  private readonly loss: { ce: number; kl: number; temperature: number };
  private disposed = false;

  static async create(device: GPUDevice, model: Model, opts: GpuTrainerOptions): Promise<GpuTrainer> {
    const ctx = GpuContext.for(device);
    const kernels = opts.kernels ?? ctx.adapterClass;
    const byClass = KERNELS_BY_CLASS[kernels];
    await ctx.compile(...TRAIN_KERNELS, embedding, swiglu, byClass.rmsNorm, MATMUL.f32[kernels].batch, ...fakeQuantKernels(opts.fakeQuant));
    const trainer = new GpuTrainer(ctx, model, opts, kernels);
    trainer.refreshForward();
    await device.queue.onSubmittedWorkDone();
    return trainer;
  }

  private constructor(private readonly ctx: GpuContext, readonly model: Model, readonly options: GpuTrainerOptions, kernels: AdapterClass) {
    const c = model.config;
    const { sequences, seqLen } = options;
    if (!(Number.isInteger(sequences) && sequences >= 1)) throw new RangeError(`sequences ${sequences} must be a positive integer`);
    if (!(Number.isInteger(seqLen) && seqLen >= 1 && seqLen <= c.maxPositions)) {
      throw new RangeError(`seqLen ${seqLen} must be an integer in [1, ${c.maxPositions}] (the model's context)`);
    }
    if (c.headDim > ATTENTION_MAX_HEAD_DIM) throw new Error(`GPU training: head_dim ${c.headDim} exceeds ${ATTENTION_MAX_HEAD_DIM}`);
    const temperature = options.temperature ?? 1;
    if (!(temperature > 0)) throw new RangeError(`temperature ${temperature} must be positive`);
    this.loss = { ce: options.ceWeight ?? 1, kl: options.klWeight ?? 1, temperature };
    this.kernels = kernels;
    const arena = new UniformArena(ctx.device);
    this.quantized = new Map([...options.fakeQuant ?? []].filter(([, d]) => d !== 'f32'));
    this.params = new TrainParams(ctx.device, model, { keepSparsity: options.keepSparsity, fakeQuant: this.quantized });
    const teacherTopK = options.teacherTopK ?? 0;
    if (!(Number.isInteger(teacherTopK) && teacherTopK >= 0 && teacherTopK <= c.vocabSize)) {
      throw new RangeError(`teacherTopK ${teacherTopK} must be an integer in [0, ${c.vocabSize}]`);
    }
    this.graph = new TrainGraph(ctx, arena, c, { sequences, seqLen, teacherTopK }, this.params, kernels);
    this.optimizer = new GpuAdamW(ctx, arena, this.params.groups, { ...ADAMW_DEFAULTS, ...options.adamw });
    this.staging = stagingBuffer(ctx.device, 'train_readback', (2 * this.graph.rows + 2) * 4);
    this.arena = arena;
    this.fakeOps = fakeQuantOps(ctx, arena, this.params.groups);
  }

  /** Fake-quantize the masters into the forward weights (after the start, a restore, each update). */
  private refreshForward(enc?: GPUCommandEncoder) {
    if (!this.fakeOps.length) return;
    const own = enc ?? this.ctx.device.createCommandEncoder({ label: 'fake_quant' });
    recordOps(own, this.arena, this.fakeOps);
    if (!enc) this.ctx.device.queue.submit([own.finish()]);
  }

  /** Rows of one micro-batch. */
  get rows() {
    return this.graph.rows;
  }

  /** Optimizer steps taken (AdamW's t). */
  get steps() {
    return this.optimizer.step;
  }

  /** Weights and AdamW moments by canonical name, and AdamW's t: what a checkpoint holds. */
  async state(): Promise<{ w: Map<string, Float32Array>; m: Map<string, Float32Array>; v: Map<string, Float32Array>; t: number }> {
    return { w: await this.params.read('w'), m: await this.params.read('m'), v: await this.params.read('v'), t: this.optimizer.step };
  }

  /** Continue from a state() (of this model's trainer, on either backend). */
  async restore(s: { w: ReadonlyMap<string, Float32Array>; m: ReadonlyMap<string, Float32Array>; v: ReadonlyMap<string, Float32Array>; t: number }) {
    this.params.write('w', s.w);
    this.params.write('m', s.m);
    this.params.write('v', s.v);
    this.optimizer.step = s.t;
    this.refreshForward();
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  /** Zero the gradients, then forward and backward over the micro-batches (gradients summed). */
  async backward(batches: TrainBatch | TrainBatch[]): Promise<StepLoss> {
    if (this.disposed) throw new Error('GPU trainer used after dispose()');
    const list = Array.isArray(batches) ? batches : [batches];
    if (list.length === 0) throw new RangeError('a training step needs at least one batch');
    const checked = list.map((b, i) => this.check(b, list.length > 1 ? `batch ${i}: ` : ''));
    const ceRows = checked.reduce((s, b) => s + b.ceRows, 0);
    const klRows = checked.reduce((s, b) => s + b.klRows, 0);
    const { device } = this.ctx;
    let ceSum = 0, klSum = 0;
    for (let i = 0; i < list.length; i++) {
      const b = list[i], { targets, embed } = checked[i];
      device.queue.writeBuffer(this.graph.tokens, 0, Uint32Array.from(b.tokens));
      device.queue.writeBuffer(this.graph.targets, 0, targets);
      device.queue.writeBuffer(this.graph.embedIndex, 0, embed.index);
      if (b.teacherLogits) {
        this.graph.uploadTeacher(b.teacherLogits);
      } else if (b.teacherTopK) {
        device.queue.writeBuffer(this.graph.teacherTopIds, 0, Uint32Array.from(b.teacherTopK.indices));
        device.queue.writeBuffer(this.graph.teacherTop, 0, Float32Array.from(b.teacherTopK.logits));
      }
      const enc = device.createCommandEncoder({ label: 'train' });
      if (i === 0) this.params.clearGradients(enc);
      this.graph.record(enc, {
        ceWeight: ceRows > 0 && checked[i].ceRows > 0 ? this.loss.ce / ceRows : 0,
        klWeight: checked[i].klRows > 0 ? this.loss.kl / klRows : 0,
        temperature: this.loss.temperature,
        topK: !b.teacherLogits && !!b.teacherTopK,
      }, embed.uniques);
      const [ce, kl] = await this.submitAndRead(enc, [[this.graph.ceLoss, this.rows], [this.graph.klLoss, this.rows]]);
      if (checked[i].ceRows > 0) ceSum += sum(ce);
      if (checked[i].klRows > 0) klSum += sum(kl);
    }
    // a term with weight 0 is not computed at all: NaN, so progress shows only the terms the loss has
    const hasCe = ceRows > 0 && this.loss.ce > 0, hasKl = klRows > 0 && this.loss.kl > 0;
    const ce = hasCe ? ceSum / ceRows : NaN, kl = hasKl ? klSum / klRows : NaN;
    return { ce, kl, loss: (hasCe ? this.loss.ce * ce : 0) + (hasKl ? this.loss.kl * kl : 0) };
  }

  /** One optimizer step at learning rate lr over the micro-batches. */
  async step(batches: TrainBatch | TrainBatch[], lr: number): Promise<StepResult> {
    if (!(lr >= 0)) throw new RangeError(`learning rate ${lr} must be >= 0`);
    const loss = await this.backward(batches);
    const enc = this.ctx.device.createCommandEncoder({ label: 'adamw' });
    recordOps(enc, this.arena, this.optimizer.ops(lr));
    this.refreshForward(enc);
    const [clip] = await this.submitAndRead(enc, [[this.optimizer.clip, 2]]);
    return { ...loss, gradNorm: clip[1] };
  }

  /** Current weights by canonical name. */
  weights(): Promise<Map<string, Float32Array>> {
    return this.params.weights();
  }

  /** Gradients of the last backward() / step() by canonical name (summed over its micro-batches, loss-weighted). */
  gradients(): Promise<Map<string, Float32Array>> {
    return this.params.gradients();
  }

  /** The weights the forward multiplies by (the fake-quantized ones for fakeQuant tensors, else the masters). */
  forwardWeights(): Promise<Map<string, Float32Array>> {
    return this.params.forwardWeights();
  }

  /** The model with the trained weights: f32, and fake-quantized tensors encoded from their masters in their dtype. */
  async toModel(name?: string): Promise<Model> {
    return withTrainedWeights(this.model, await this.weights(), this.quantized, name);
  }

  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.graph.destroy();
    this.optimizer.destroy();
    this.params.destroy();
    this.staging.destroy();
    this.arena.destroy();
  }

  private check(b: TrainBatch, where: string) {
    const c = this.model.config, n = this.rows, V = c.vocabSize;
    if (b.tokens.length !== n) throw new RangeError(`${where}${b.tokens.length} tokens, the trainer takes ${this.options.sequences} x ${this.options.seqLen} = ${n}`);
    for (let i = 0; i < n; i++) {
      const t = b.tokens[i];
      if (!Number.isInteger(t) || t < 0 || t >= V) throw new RangeError(`${where}token id ${t} outside vocabulary [0, ${V})`);
    }
    const targets = new Uint32Array(n).fill(IGNORE_TARGET);
    let ceRows = 0;
    if (b.targets) {
      if (b.targets.length !== n) throw new RangeError(`${where}${b.targets.length} targets for ${n} tokens`);
      for (let i = 0; i < n; i++) {
        const t = b.targets[i];
        if (t < 0) continue;
        if (!Number.isInteger(t) || t >= V) throw new RangeError(`${where}target ${t} outside vocabulary [0, ${V})`);
        targets[i] = t;
        ceRows++;
      }
    }
    if (b.teacherLogits && b.teacherTopK) throw new Error(`${where}give teacher logits or top-k teacher logits, not both`);
    if (b.teacherLogits && b.teacherLogits.length !== n * V) {
      throw new RangeError(`${where}${b.teacherLogits.length} teacher logits, expected ${n} rows x ${V}`);
    }
    if (b.teacherTopK) {
      const { k, indices, logits } = b.teacherTopK, want = this.options.teacherTopK ?? 0;
      if (k !== want) throw new RangeError(`${where}top-k teacher logits with k = ${k}, the trainer was made for teacherTopK = ${want}`);
      if (indices.length !== n * k || logits.length !== n * k) throw new RangeError(`${where}top-k teacher logits for ${indices.length / k} rows, expected ${n}`);
      for (let i = 0; i < indices.length; i++) {
        if (!(indices[i] >= 0 && indices[i] < V)) throw new RangeError(`${where}top-k teacher id ${indices[i]} outside vocabulary [0, ${V})`);
      }
    }
    const teacher = !!(b.teacherLogits || b.teacherTopK);
    if (ceRows === 0 && !teacher) throw new Error(`${where}batch has neither targets nor teacher logits: nothing to learn from`);
    return { targets, ceRows, klRows: teacher ? n : 0, embed: embeddingIndex(b.tokens) };
  }

  private async submitAndRead(enc: GPUCommandEncoder, reads: [GPUBuffer, number][]): Promise<Float32Array[]> {
    let at = 0;
    const spans = reads.map(([src, n]) => {
      enc.copyBufferToBuffer(src, 0, this.staging, at * 4, n * 4);
      const span = [at, n] as const;
      at += n;
      return span;
    });
    this.arena.flush();
    this.ctx.device.queue.submit([enc.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ, 0, at * 4);
    const all = new Float32Array(this.staging.getMappedRange(0, at * 4).slice(0));
    this.staging.unmap();
    return spans.map(([from, n]) => all.subarray(from, from + n));
  }
}

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
