// A model's trainable weights on the GPU, in the layout the training graph reads: q|k|v and gate|up
// stacked by rows as in the inference runtime (one matmul each), so each part of a stacked matrix
// is a contiguous slice of its buffer and of its gradient. Every group carries its weight (the f32
// master), gradient and the two AdamW moments. Weights of any stored dtype are trained as f32; those named
// in `fakeQuant` get their own forward weights (fw), rewritten from the masters through their dtype (fake-quant.ts).
import type { ModelConfig } from '../../model/config';
import type { DTypeId } from '../../model/dtype';
import { expectedShapes, type Model } from '../../model/model';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from '../../model/names';
import { numel, toFloat32 } from '../../model/tensor';
import { isLinearWeight } from '../../passes/quant/common';
import { readFloats, storageBuffer, uploadBuffer } from '../buffers';
import { nonzeroMask } from './kernels';

/** One canonical tensor inside a group: `count` floats from `offset`. */
export interface ParamPart {
  readonly name: string;
  readonly offset: number;
  readonly count: number;
  /** The dtype the forward sees this tensor through (straight-through); absent: the master itself. */
  readonly fakeQuant?: DTypeId;
}

export interface ParamGroup {
  readonly label: string;
  readonly parts: readonly ParamPart[];
  /** Floats in the group. */
  readonly count: number;
  /** Matrices get weight decay; norm weights do not (decaying a scale towards 0 only hurts). */
  readonly decay: boolean;
  readonly w: GPUBuffer;
  /** The weights the forward and backward multiply by: `w` itself, or its fake quantization. */
  readonly fw: GPUBuffer;
  readonly grad: GPUBuffer;
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  /** Bits of the weights that were non-zero at the start (keepSparsity): the others never train. */
  readonly mask?: GPUBuffer;
}

export interface LayerParams {
  attnNorm: ParamGroup;
  /** [q; k; v] by rows: [qDim + 2 kvDim, hidden]. */
  qkv: ParamGroup;
  /** [q; k; v] biases (attention_bias models such as Qwen2). */
  qkvBias?: ParamGroup;
  o: ParamGroup;
  ffnNorm: ParamGroup;
  /** [gate; up] by rows: [2 intermediate, hidden]. */
  gateUp: ParamGroup;
  down: ParamGroup;
}

export class TrainParams {
  readonly embed: ParamGroup;
  /** The embedding group itself when the model ties lm_head to it (one weight, one gradient). */
  readonly lmHead: ParamGroup;
  readonly finalNorm: ParamGroup;
  readonly layers: LayerParams[];
  readonly groups: ParamGroup[] = [];

  constructor(private readonly device: GPUDevice, model: Model, opts: { keepSparsity?: boolean; fakeQuant?: ReadonlyMap<string, DTypeId> } = {}) {
    const c = model.config;
    const shapes = expectedShapes(c);
    const group = (label: string, names: string[], decay: boolean): ParamGroup => {
      const parts: ParamPart[] = [];
      let count = 0;
      for (const name of names) {
        const n = numel(shapes.get(name)!);
        parts.push({ name, offset: count, count: n, fakeQuant: opts.fakeQuant?.get(name) });
        count += n;
      }
      const values = new Float32Array(count);
      for (const p of parts) {
        const t = model.tensors.get(p.name);
        if (!t) throw new Error(`model has no tensor ${p.name}`);
        if (numel(t.shape) !== p.count) throw new Error(`tensor ${p.name} has shape [${t.shape}], config implies [${shapes.get(p.name)}]`);
        values.set(toFloat32(t), p.offset);
      }
      const buf = (kind: string) => storageBuffer(device, `${label}.${kind}`, count * 4);
      // as the CPU trainer's keepSparsity: only layer matrices keep their zeros, and not fake-quantized ones
      // (their zeros are grid points, not pruned weights)
      const quantized = parts.filter((p) => p.fakeQuant);
      const maskOf = quantized.length ? values.slice() : values;
      for (const p of quantized) maskOf.fill(1, p.offset, p.offset + p.count);
      const sparse = opts.keepSparsity && names.every(isLinearWeight) && maskOf.includes(0);
      const w = uploadBuffer(device, label, values);
      const g: ParamGroup = {
        label, parts, count, decay, w, fw: quantized.length ? buf('fw') : w, grad: buf('grad'), m: buf('m'), v: buf('v'),
        mask: sparse ? uploadBuffer(device, `${label}.mask`, nonzeroMask(maskOf)) : undefined,
      };
      this.groups.push(g);
      return g;
    };
    this.embed = group(EMBED, [EMBED], true);
    this.lmHead = c.tieWordEmbeddings ? this.embed : group(LM_HEAD, [LM_HEAD], true);
    this.finalNorm = group(FINAL_NORM, [FINAL_NORM], false);
    this.layers = Array.from({ length: c.numLayers }, (_, l) => {
      const L = (t: LayerTensor) => layerName(l, t);
      return {
        attnNorm: group(L('input_layernorm.weight'), [L('input_layernorm.weight')], false),
        qkv: group(`model.layers.${l}.self_attn.qkv`, [L('self_attn.q_proj.weight'), L('self_attn.k_proj.weight'), L('self_attn.v_proj.weight')], true),
        qkvBias: c.attentionBias
          ? group(`model.layers.${l}.self_attn.qkv_bias`, [L('self_attn.q_proj.bias'), L('self_attn.k_proj.bias'), L('self_attn.v_proj.bias')], false)
          : undefined,
        o: group(L('self_attn.o_proj.weight'), [L('self_attn.o_proj.weight')], true),
        ffnNorm: group(L('post_attention_layernorm.weight'), [L('post_attention_layernorm.weight')], false),
        gateUp: group(`model.layers.${l}.mlp.gate_up`, [L('mlp.gate_proj.weight'), L('mlp.up_proj.weight')], true),
        down: group(L('mlp.down_proj.weight'), [L('mlp.down_proj.weight')], true),
      };
    });
  }

  /** Floats of every trainable weight. */
  get count() {
    return this.groups.reduce((s, g) => s + g.count, 0);
  }

  /** The forward's weights by canonical name (the fake-quantized ones where a tensor trains through a dtype). */
  forwardWeights(): Promise<Map<string, Float32Array>> {
    return this.read('fw');
  }

  /** Current weights by canonical name (what withWeights() turns back into a model). */
  weights(): Promise<Map<string, Float32Array>> {
    return this.read('w');
  }

  /** Gradients of the last backward by canonical name. */
  gradients(): Promise<Map<string, Float32Array>> {
    return this.read('grad');
  }

  /** Weights, gradients or AdamW moments by canonical name. */
  async read(kind: StateKind): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const g of this.groups) {
      const all = await readFloats(this.device, g[kind], g.count);
      for (const p of g.parts) out.set(p.name, all.slice(p.offset, p.offset + p.count));
    }
    return out;
  }

  /** Overwrite weights or moments from arrays by canonical name (a restored checkpoint); every part must be given. */
  write(kind: StateKind, values: ReadonlyMap<string, Float32Array>) {
    for (const g of this.groups) {
      for (const p of g.parts) {
        const v = values.get(p.name);
        if (!v) throw new Error(`no ${kind} for ${p.name}`);
        if (v.length !== p.count) throw new Error(`${kind} of ${p.name} has ${v.length} values, the model needs ${p.count}`);
        this.device.queue.writeBuffer(g[kind], p.offset * 4, v.buffer, v.byteOffset, v.byteLength);
      }
    }
  }

  /** Zero every gradient (before the first micro-batch of a step). */
  clearGradients(enc: GPUCommandEncoder) {
    for (const g of this.groups) enc.clearBuffer(g.grad);
  }

  destroy() {
    for (const g of this.groups) for (const b of [g.w, g.fw === g.w ? undefined : g.fw, g.grad, g.m, g.v, g.mask]) b?.destroy();
  }
}

export type StateKind = 'w' | 'fw' | 'grad' | 'm' | 'v';

/** Sizes of the stacked layer matrices. */
export const fusedDims = (c: ModelConfig) => {
  const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
  return { qDim, kvDim, qkvDim: qDim + 2 * kvDim };
};
