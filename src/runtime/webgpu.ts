// The fast path: the same Llama forward as cpu-reference.ts, as WGSL dispatches on one device.
// Weights and the KV cache live on the GPU. A forward records every layer of a batch (the whole
// prompt at once, in chunks of maxBatchRows rows) into one compute pass and one submission, and reads
// back only the logits it returns. Bind groups and params slots are built once per activation
// capacity, so a decode step allocates nothing on the GPU. Per layer there are 9 dispatches:
// q|k|v and gate|up are each one matmul over row-stacked weights, RoPE and the KV append are one
// kernel, and both residual adds ride on the o and down matmuls (small models are dispatch-bound).
import type { ModelConfig } from '../model/config';
import type { Model } from '../model/model';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from '../model/names';
import type { Tensor } from '../model/tensor';
import { stagingBuffer, storageBuffer, uploadBuffer } from '../gpu/buffers';
import { GpuContext } from '../gpu/context';
import type { AdapterClass } from '../gpu/device';
import { Dispatch } from '../gpu/dispatch';
import { MAX_GROUPS_PER_DIM, type Kernel, type KernelBuffers } from '../gpu/kernel';
import {
  ALL_KERNELS, ATTENTION_MAX_HEAD_DIM, KERNELS_BY_CLASS, MATMUL_ACCUMULATE, MATMUL_BIAS,
  attention, embedding, rmsNorm, ropeKv, swiglu,
} from '../gpu/kernels';
import { ropeTable } from '../gpu/rope-table';
import { UniformArena } from '../gpu/uniforms';
import { MATMUL, matmulKernelsFor, uploadMatrix, uploadVector, type GpuWeight, type MatmulKernels } from '../gpu/weights';
import type { Runtime } from './runtime';

/** Default for maxBatchRows: most rows one submission processes (longer prompts run as several chunks). */
const MAX_BATCH_ROWS = 512;
/** GPU memory for all-rows logits (and as much again for their staging copy); sets the chunk size then. */
const LOGITS_BUDGET_BYTES = 64 << 20;
/** Up to this many rows, matmuls use the matvec kernel (weights read once per row, no idle tile rows). */
const MATVEC_MAX_ROWS = 1;

interface LayerWeights {
  attnNorm: GPUBuffer; ffnNorm: GPUBuffer;
  /** [q; k; v] stacked by rows, and their biases likewise (Qwen2). */
  qkv: GpuWeight; qkvBias?: GPUBuffer;
  o: GpuWeight;
  /** [gate; up] stacked by rows. */
  gateUp: GpuWeight;
  down: GpuWeight;
  kCache: GPUBuffer; vCache: GPUBuffer;
}

type MatmulKernel = MatmulKernels['batch'];

/** A matmul dispatch plus the kernels for its weight format (batch, and single-row for this device). */
interface MatmulStep {
  dispatch: Dispatch<MatmulKernel>;
  batch: MatmulKernel;
  single: MatmulKernel;
  inDim: number;
  outDim: number;
  flags: number;
}

interface LayerSteps {
  attnNorm: Dispatch<typeof rmsNorm>;
  qkv: MatmulStep;
  ropeKv: Dispatch<typeof ropeKv>;
  attention: Dispatch<typeof attention>;
  o: MatmulStep;
  ffnNorm: Dispatch<typeof rmsNorm>;
  gateUp: MatmulStep;
  swiglu: Dispatch<typeof swiglu>;
  down: MatmulStep;
}

/** Activation buffers for `capacity` rows and the dispatches bound to them. */
interface Plan {
  capacity: number;
  buffers: GPUBuffer[];
  tokens: GPUBuffer;
  /** The residual stream and its normed copy, which the head reads. */
  x: GPUBuffer;
  xNorm: GPUBuffer;
  embed: Dispatch<typeof embedding>;
  layers: LayerSteps[];
  head?: Head;
}

/**
 * Final norm, lm_head and readback for up to `rows` rows of logits. Sized apart from the layers
 * because a vocabulary row is large: generation needs one, perplexity a few hundred.
 */
interface Head {
  rows: number;
  logits: GPUBuffer;
  staging: GPUBuffer;
  finalNorm: Dispatch<typeof rmsNorm>;
  lmHead: MatmulStep;
}

export interface WebGpuRuntimeOptions {
  /** KV cache length (default and maximum: config.maxPositions). */
  maxPositions?: number;
  /** Rows per submission (default 512): longer prompts are processed in chunks of this many tokens. */
  maxBatchRows?: number;
  /** Kernel family; default from the adapter (see adapterClass). Tests force 'gpu' on SwiftShader. */
  kernels?: AdapterClass;
}

export class WebGpuRuntime implements Runtime {
  readonly kind = 'webgpu' as const;
  readonly config: ModelConfig;
  readonly maxPositions: number;
  /** Rows per submission; bounds activation memory (and the GPU time of one submit). */
  readonly maxBatchRows: number;
  /** Which kernel family runs: 'gpu' (tiled, cooperative) or 'cpu' (barrier-free, for software adapters). */
  readonly kernels: AdapterClass;
  private readonly ctx: GpuContext;
  private readonly arena: UniformArena;
  private readonly owned: GPUBuffer[] = [];
  private readonly embedTable: GPUBuffer;
  private readonly finalNormWeight: GPUBuffer;
  private readonly lmHeadWeight: GpuWeight;
  private readonly layerWeights: LayerWeights[];
  private readonly ropeCosSin: GPUBuffer;
  private readonly dummyBias: GPUBuffer;
  private plan?: Plan;
  private pos = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  static async create(device: GPUDevice, model: Model, opts: WebGpuRuntimeOptions = {}): Promise<WebGpuRuntime> {
    const ctx = GpuContext.for(device);
    await ctx.compile(...ALL_KERNELS);
    const rt = new WebGpuRuntime(ctx, model, opts);
    // the dequantizing matmuls of the quantized formats this model holds (not in ALL_KERNELS: 80 of them)
    const weights = [rt.lmHeadWeight, ...rt.layerWeights.flatMap((w) => [w.qkv, w.o, w.gateUp, w.down])];
    await ctx.compile(...matmulKernelsFor(weights.map((w) => w.format), rt.kernels)).catch((e) => {
      rt.dispose(); // the weights are already on the GPU
      throw e;
    });
    await device.queue.onSubmittedWorkDone(); // uploads finished: creation cost is not billed to the first forward
    return rt;
  }

  private constructor(ctx: GpuContext, model: Model, opts: WebGpuRuntimeOptions) {
    const c = (this.config = model.config);
    if (c.headDim > ATTENTION_MAX_HEAD_DIM) throw new Error(`webgpu: head_dim ${c.headDim} exceeds ${ATTENTION_MAX_HEAD_DIM}`);
    this.ctx = ctx;
    this.arena = new UniformArena(ctx.device);
    this.maxPositions = Math.min(opts.maxPositions ?? c.maxPositions, c.maxPositions);
    // rows become workgroup counts along one grid dimension (65535 at most)
    this.maxBatchRows = Math.min(MAX_GROUPS_PER_DIM, Math.max(1, Math.floor(opts.maxBatchRows ?? MAX_BATCH_ROWS)));
    this.kernels = opts.kernels ?? ctx.adapterClass;
    const device = ctx.device;
    const own = <T extends GPUBuffer | GpuWeight>(b: T): T => (this.owned.push('buffer' in b ? b.buffer : b), b);
    const tensor = (name: string): Tensor => {
      const t = model.tensors.get(name);
      if (!t) throw new Error(`model has no tensor ${name}`);
      return t;
    };
    const vector = (name: string) => own(uploadVector(device, name, [tensor(name)]));
    const matrix = (label: string, ...names: string[]) => own(uploadMatrix(device, label, names.map(tensor)));

    this.embedTable = vector(EMBED);
    this.finalNormWeight = vector(FINAL_NORM);
    this.lmHeadWeight = c.tieWordEmbeddings
      ? { format: 'f32', buffer: this.embedTable, shape: [c.vocabSize, c.hiddenSize] }
      : matrix(LM_HEAD, LM_HEAD);
    const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
    const kvBytes = this.maxPositions * kvDim * 4;
    this.layerWeights = Array.from({ length: c.numLayers }, (_, l) => {
      const L = (t: LayerTensor) => layerName(l, t);
      const biases = (['self_attn.q_proj.bias', 'self_attn.k_proj.bias', 'self_attn.v_proj.bias'] as const).map(L);
      const hasBias = biases.some((b) => model.tensors.has(b));
      return {
        attnNorm: vector(L('input_layernorm.weight')), ffnNorm: vector(L('post_attention_layernorm.weight')),
        qkv: matrix(`model.layers.${l}.self_attn.qkv`, L('self_attn.q_proj.weight'), L('self_attn.k_proj.weight'), L('self_attn.v_proj.weight')),
        qkvBias: hasBias
          ? own(uploadVector(device, `model.layers.${l}.self_attn.qkv_bias`, biases.map((b, i) => model.tensors.get(b) ?? (i === 0 ? qDim : kvDim))))
          : undefined,
        o: matrix(L('self_attn.o_proj.weight'), L('self_attn.o_proj.weight')),
        gateUp: matrix(`model.layers.${l}.mlp.gate_up`, L('mlp.gate_proj.weight'), L('mlp.up_proj.weight')),
        down: matrix(L('mlp.down_proj.weight'), L('mlp.down_proj.weight')),
        kCache: own(storageBuffer(device, `k_cache.${l}`, kvBytes)),
        vCache: own(storageBuffer(device, `v_cache.${l}`, kvBytes)),
      };
    });
    this.ropeCosSin = own(uploadBuffer(device, 'rope_table', ropeTable(this.maxPositions, c.headDim, c.ropeTheta)));
    this.dummyBias = own(storageBuffer(device, 'no_bias', 4));
  }

  get position() {
    return this.pos;
  }

  /** Weights, KV cache and tables on the GPU (activations, a few MB at most, are not counted). */
  get memoryBytes() {
    return this.owned.reduce((s, b) => s + b.size, 0);
  }

  reset() {
    this.pos = 0; // stale cache rows past the position are never read (attention is causal)
  }

  rewind(position: number) {
    if (!(Number.isInteger(position) && position >= 0 && position <= this.pos)) {
      throw new RangeError(`cannot rewind to ${position}: ${this.pos} positions are cached`);
    }
    this.pos = position;
  }

  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.destroyPlan();
    for (const b of this.owned) b.destroy();
    this.arena.destroy();
  }

  forward(tokens: ArrayLike<number>, opts: { lastOnly?: boolean } = {}): Promise<Float32Array> {
    // Calls share the activation buffers and the position, so they run one after another.
    const run = this.queue.then(() => this.forwardNow(Array.from(tokens), opts.lastOnly ?? false));
    this.queue = run.catch(() => {});
    return run;
  }

  private async forwardNow(tokens: number[], lastOnly: boolean): Promise<Float32Array> {
    if (this.disposed) throw new Error('webgpu runtime used after dispose()');
    const c = this.config;
    const n = tokens.length;
    if (n === 0) throw new RangeError('forward needs at least one token');
    if (this.pos + n > this.maxPositions) {
      throw new RangeError(`context overflow: ${this.pos} + ${n} tokens exceeds ${this.maxPositions} positions`);
    }
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new RangeError(`token id ${t} outside vocabulary [0, ${c.vocabSize})`);
    }
    const V = c.vocabSize;
    const plan = this.planFor(Math.min(n, this.maxBatchRows));
    const chunk = lastOnly ? plan.capacity : Math.min(plan.capacity, Math.max(1, Math.floor(LOGITS_BUDGET_BYTES / (V * 4))));
    const head = this.headFor(plan, lastOnly ? 1 : Math.min(n, chunk));
    const out = new Float32Array(lastOnly ? V : n * V);
    for (let first = 0; first < n; first += chunk) {
      const rows = Math.min(chunk, n - first);
      // Rows of logits this chunk produces: none for an inner chunk of a lastOnly prompt.
      const logitRows = !lastOnly ? rows : first + rows === n ? 1 : 0;
      const bytes = logitRows * V * 4;
      this.ctx.device.queue.writeBuffer(plan.tokens, 0, new Uint32Array(tokens.slice(first, first + rows)));
      const enc = this.ctx.device.createCommandEncoder({ label: 'forward' });
      const pass = enc.beginComputePass({ label: 'forward' });
      this.recordLayers(pass, plan, rows, this.pos);
      if (logitRows > 0) {
        head.finalNorm.record(pass, { rows: logitRows, dim: c.hiddenSize, srcRow: rows - logitRows, eps: c.rmsNormEps });
        recordMatmul(pass, head.lmHead, logitRows);
      }
      pass.end();
      if (logitRows > 0) enc.copyBufferToBuffer(head.logits, 0, head.staging, 0, bytes);
      this.arena.flush();
      this.ctx.device.queue.submit([enc.finish()]);
      this.pos += rows;
      if (logitRows > 0) {
        await head.staging.mapAsync(GPUMapMode.READ, 0, bytes);
        out.set(new Float32Array(head.staging.getMappedRange(0, bytes)), lastOnly ? 0 : first * V);
        head.staging.unmap();
      }
    }
    return out;
  }

  private recordLayers(pass: GPUComputePassEncoder, plan: Plan, rows: number, startPos: number) {
    const c = this.config;
    const H = c.hiddenSize, eps = c.rmsNormEps;
    const heads = { numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim };
    const style = c.ropeStyle === 'interleaved' ? 0 : 1;
    plan.embed.record(pass, { rows, dim: H });
    for (const s of plan.layers) {
      s.attnNorm.record(pass, { rows, dim: H, srcRow: 0, eps });
      recordMatmul(pass, s.qkv, rows);
      s.ropeKv.record(pass, { rows, ...heads, startPos, style });
      s.attention.record(pass, { rows, startPos, ...heads, scale: 1 / Math.sqrt(c.headDim) });
      recordMatmul(pass, s.o, rows); // x += attn W_o^T
      s.ffnNorm.record(pass, { rows, dim: H, srcRow: 0, eps });
      recordMatmul(pass, s.gateUp, rows);
      s.swiglu.record(pass, { rows, dim: c.intermediateSize });
      recordMatmul(pass, s.down, rows); // x += act W_down^T
    }
  }

  /** The plan for at least `rows` rows, rebuilt (capacity doubled) only when a batch outgrows it. */
  private planFor(rows: number): Plan {
    if (this.plan && this.plan.capacity >= rows) return this.plan;
    const capacity = Math.min(this.maxBatchRows, Math.max(rows, 2 * (this.plan?.capacity ?? 8)));
    this.destroyPlan();
    return (this.plan = this.buildPlan(capacity));
  }

  private headFor(plan: Plan, rows: number): Head {
    if (plan.head && plan.head.rows >= rows) return plan.head;
    if (plan.head) destroyHead(plan.head);
    const { device } = this.ctx;
    const bytes = rows * this.config.vocabSize * 4;
    const logits = storageBuffer(device, 'logits', bytes);
    return (plan.head = {
      rows, logits,
      staging: stagingBuffer(device, 'logits_staging', bytes),
      finalNorm: new Dispatch(this.ctx, this.arena, KERNELS_BY_CLASS[this.kernels].rmsNorm, {
        x: plan.x, weight: this.finalNormWeight, out: plan.xNorm,
      }),
      lmHead: this.matmulStep(plan.xNorm, this.lmHeadWeight, logits, undefined, false),
    });
  }

  private destroyPlan() {
    if (!this.plan) return;
    for (const b of this.plan.buffers) b.destroy();
    if (this.plan.head) destroyHead(this.plan.head);
    this.plan = undefined;
    // The plan's params slots stay allocated in the arena; capacity only doubles, so that is a few times at most.
  }

  private buildPlan(capacity: number): Plan {
    const c = this.config;
    const { device } = this.ctx;
    const H = c.hiddenSize, F = c.intermediateSize;
    const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
    const buffers: GPUBuffer[] = [];
    const act = (label: string, floats: number) => {
      const b = storageBuffer(device, label, capacity * floats * 4);
      buffers.push(b);
      return b;
    };
    const x = act('x', H), xn = act('x_norm', H), qkv = act('qkv', qDim + 2 * kvDim), q = act('q', qDim);
    const attn = act('attn', qDim), gateUp = act('gate_up', 2 * F), mlp = act('mlp', F);
    const tokens = act('tokens', 1);

    const d = <K extends Kernel>(kernel: K, b: KernelBuffers<K>) => new Dispatch(this.ctx, this.arena, kernel, b);
    const mm = this.matmulStep.bind(this);
    const byClass = KERNELS_BY_CLASS[this.kernels];
    const layers = this.layerWeights.map((w): LayerSteps => ({
      attnNorm: d(byClass.rmsNorm, { x, weight: w.attnNorm, out: xn }),
      qkv: mm(xn, w.qkv, qkv, w.qkvBias, false),
      ropeKv: d(ropeKv, { qkv, table: this.ropeCosSin, q, kCache: w.kCache, vCache: w.vCache }),
      attention: d(byClass.attention, { q, kCache: w.kCache, vCache: w.vCache, out: attn }),
      o: mm(attn, w.o, x, undefined, true),
      ffnNorm: d(byClass.rmsNorm, { x, weight: w.ffnNorm, out: xn }),
      gateUp: mm(xn, w.gateUp, gateUp, undefined, false),
      swiglu: d(swiglu, { gateUp, out: mlp }),
      down: mm(mlp, w.down, x, undefined, true),
    }));
    return { capacity, buffers, tokens, x, xNorm: xn, embed: d(embedding, { tokens, table: this.embedTable, out: x }), layers };
  }

  private matmulStep(x: GPUBuffer, w: GpuWeight, out: GPUBuffer, bias: GPUBuffer | undefined, accumulate: boolean): MatmulStep {
    const kernels = MATMUL[w.format][this.kernels];
    const [outDim, inDim] = w.shape;
    return {
      batch: kernels.batch,
      single: inDim % 4 === 0 && kernels.singleVec4 ? kernels.singleVec4 : kernels.single,
      dispatch: new Dispatch(this.ctx, this.arena, kernels.batch, { x, w: w.buffer, bias: bias ?? this.dummyBias, out }),
      outDim, inDim,
      flags: (bias ? MATMUL_BIAS : 0) | (accumulate ? MATMUL_ACCUMULATE : 0),
    };
  }
}

function destroyHead(h: Head) {
  h.logits.destroy();
  h.staging.destroy();
}

function recordMatmul(pass: GPUComputePassEncoder, s: MatmulStep, rows: number) {
  const kernel = rows <= MATVEC_MAX_ROWS ? s.single : s.batch;
  s.dispatch.record(pass, { rows, inDim: s.inDim, outDim: s.outDim, flags: s.flags }, kernel);
}
