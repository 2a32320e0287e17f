// The oracle: a plain Float32Array Llama forward pass. Every GPU kernel is tested against the functions
// here, so they favour obviousness over speed (but stay fast enough to evaluate stories260K in tests).
import type { ModelConfig, RopeStyle } from '../model/config';
import type { Model } from '../model/model';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from '../model/names';
import { toFloat32 } from '../model/tensor';
import type { Runtime } from './runtime';

export function rmsNorm(x: Float32Array, weight: Float32Array, eps: number, rows: number): Float32Array {
  const dim = weight.length;
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * scale * weight[i];
  }
  return out;
}

/** y = x W^T (+ bias), W stored [outDim, inDim] as in PyTorch. */
export function matmulT(
  x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number, bias?: Float32Array,
): Float32Array {
  const out = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s = 0;
      for (let i = 0; i < inDim; i++) s += x[xo + i] * w[wo + i];
      out[r * outDim + o] = s + (bias ? bias[o] : 0);
    }
  }
  return out;
}

/**
 * Rotary embedding in place; row r sits at position startPos + r. See RopeStyle for the pairing.
 * `direction` -1 rotates by the opposite angle: the inverse, which is also RoPE's backward.
 */
export function applyRope(
  x: Float32Array, rows: number, numHeads: number, headDim: number, startPos: number, theta: number, style: RopeStyle,
  direction: 1 | -1 = 1,
): void {
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    const pos = startPos + r;
    for (let h = 0; h < numHeads; h++) {
      const base = (r * numHeads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = pos * Math.pow(theta, (-2 * i) / headDim);
        const c = Math.cos(angle), s = direction * Math.sin(angle);
        const a = style === 'interleaved' ? base + 2 * i : base + i;
        const b = style === 'interleaved' ? a + 1 : a + half;
        const x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
      }
    }
  }
}

/** Causal grouped-query attention of `rows` queries against a cache holding positions [0, startPos + rows). */
export function attention(
  q: Float32Array, kCache: Float32Array, vCache: Float32Array,
  rows: number, startPos: number, numHeads: number, numKvHeads: number, headDim: number,
): Float32Array {
  const kvDim = numKvHeads * headDim;
  const group = numHeads / numKvHeads;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(rows * numHeads * headDim);
  const scores = new Float32Array(startPos + rows);
  for (let r = 0; r < rows; r++) {
    const len = startPos + r + 1;
    for (let h = 0; h < numHeads; h++) {
      const qo = (r * numHeads + h) * headDim;
      const kvo = Math.floor(h / group) * headDim;
      let max = -Infinity;
      for (let t = 0; t < len; t++) {
        let s = 0;
        for (let d = 0; d < headDim; d++) s += q[qo + d] * kCache[t * kvDim + kvo + d];
        scores[t] = s * scale;
        if (scores[t] > max) max = scores[t];
      }
      let sum = 0;
      for (let t = 0; t < len; t++) sum += (scores[t] = Math.exp(scores[t] - max));
      for (let t = 0; t < len; t++) {
        const p = scores[t] / sum;
        for (let d = 0; d < headDim; d++) out[qo + d] += p * vCache[t * kvDim + kvo + d];
      }
    }
  }
  return out;
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

export function swiglu(gate: Float32Array, up: Float32Array): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = silu(gate[i]) * up[i];
  return out;
}

export function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

export function embed(table: Float32Array, tokens: ArrayLike<number>, dim: number, vocab: number): Float32Array {
  const out = new Float32Array(tokens.length * dim);
  for (let r = 0; r < tokens.length; r++) {
    const t = tokens[r];
    if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new RangeError(`token id ${t} outside vocabulary [0, ${vocab})`);
    out.set(table.subarray(t * dim, (t + 1) * dim), r * dim);
  }
  return out;
}

/** Called with the [rows, inDim] input of each linear layer, named by its weight tensor. */
export type LinearObserver = (weight: string, input: Float32Array, rows: number) => void;

interface LayerWeights {
  attnNorm: Float32Array; ffnNorm: Float32Array;
  wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array;
  bq?: Float32Array; bk?: Float32Array; bv?: Float32Array;
  gate: Float32Array; up: Float32Array; down: Float32Array;
}

export class CpuRuntime implements Runtime {
  readonly kind = 'cpu' as const;
  readonly config: ModelConfig;
  readonly maxPositions: number;
  private readonly embedTable: Float32Array;
  private readonly lmHead: Float32Array;
  private readonly finalNorm: Float32Array;
  private readonly layers: LayerWeights[];
  private readonly kCache: Float32Array[];
  private readonly vCache: Float32Array[];
  private pos = 0;

  /** Sees the input of every linear layer, by weight name (calibration statistics for GPTQ, AWQ, Wanda). */
  private readonly observe?: LinearObserver;

  constructor(model: Model, opts: { maxPositions?: number; observe?: LinearObserver } = {}) {
    const c = (this.config = model.config);
    this.observe = opts.observe;
    this.maxPositions = Math.min(opts.maxPositions ?? c.maxPositions, c.maxPositions);
    const get = (name: string) => {
      const t = model.tensors.get(name);
      if (!t) throw new Error(`model has no tensor ${name}`);
      return toFloat32(t);
    };
    const opt = (name: string) => (model.tensors.has(name) ? get(name) : undefined);
    const L = (l: number, t: LayerTensor) => get(layerName(l, t));
    this.embedTable = get(EMBED);
    this.lmHead = c.tieWordEmbeddings ? this.embedTable : get(LM_HEAD);
    this.finalNorm = get(FINAL_NORM);
    this.layers = Array.from({ length: c.numLayers }, (_, l) => ({
      attnNorm: L(l, 'input_layernorm.weight'), ffnNorm: L(l, 'post_attention_layernorm.weight'),
      wq: L(l, 'self_attn.q_proj.weight'), wk: L(l, 'self_attn.k_proj.weight'),
      wv: L(l, 'self_attn.v_proj.weight'), wo: L(l, 'self_attn.o_proj.weight'),
      bq: opt(layerName(l, 'self_attn.q_proj.bias')), bk: opt(layerName(l, 'self_attn.k_proj.bias')),
      bv: opt(layerName(l, 'self_attn.v_proj.bias')),
      gate: L(l, 'mlp.gate_proj.weight'), up: L(l, 'mlp.up_proj.weight'), down: L(l, 'mlp.down_proj.weight'),
    }));
    const kvDim = c.numKvHeads * c.headDim;
    this.kCache = this.layers.map(() => new Float32Array(this.maxPositions * kvDim));
    this.vCache = this.layers.map(() => new Float32Array(this.maxPositions * kvDim));
  }

  get position() {
    return this.pos;
  }

  get memoryBytes() {
    const arrays = [this.embedTable, this.finalNorm, ...this.kCache, ...this.vCache,
      ...this.layers.flatMap((l) => Object.values(l).filter((a): a is Float32Array => a instanceof Float32Array))];
    if (!this.config.tieWordEmbeddings) arrays.push(this.lmHead);
    return arrays.reduce((s, a) => s + a.byteLength, 0);
  }

  reset() {
    this.pos = 0;
  }

  rewind(position: number) {
    if (!(Number.isInteger(position) && position >= 0 && position <= this.pos)) {
      throw new RangeError(`cannot rewind to ${position}: ${this.pos} positions are cached`);
    }
    this.pos = position;
  }

  dispose() {}

  async forward(tokens: ArrayLike<number>, opts: { lastOnly?: boolean } = {}): Promise<Float32Array> {
    return this.forwardSync(tokens, opts);
  }

  forwardSync(tokens: ArrayLike<number>, { lastOnly = false }: { lastOnly?: boolean } = {}): Float32Array {
    const c = this.config;
    const n = tokens.length;
    if (n === 0) throw new RangeError('forward needs at least one token');
    if (this.pos + n > this.maxPositions) {
      throw new RangeError(`context overflow: ${this.pos} + ${n} tokens exceeds ${this.maxPositions} positions`);
    }
    const D = c.hiddenSize, F = c.intermediateSize;
    const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
    const x = embed(this.embedTable, tokens, D, c.vocabSize);
    for (let l = 0; l < c.numLayers; l++) {
      const w = this.layers[l];
      const h = rmsNorm(x, w.attnNorm, c.rmsNormEps, n);
      this.see(l, ['self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight'], h, n);
      const q = matmulT(h, w.wq, n, D, qDim, w.bq);
      const k = matmulT(h, w.wk, n, D, kvDim, w.bk);
      const v = matmulT(h, w.wv, n, D, kvDim, w.bv);
      applyRope(q, n, c.numHeads, c.headDim, this.pos, c.ropeTheta, c.ropeStyle);
      applyRope(k, n, c.numKvHeads, c.headDim, this.pos, c.ropeTheta, c.ropeStyle);
      this.kCache[l].set(k, this.pos * kvDim);
      this.vCache[l].set(v, this.pos * kvDim);
      const att = attention(q, this.kCache[l], this.vCache[l], n, this.pos, c.numHeads, c.numKvHeads, c.headDim);
      this.see(l, ['self_attn.o_proj.weight'], att, n);
      addInPlace(x, matmulT(att, w.wo, n, qDim, D));
      const h2 = rmsNorm(x, w.ffnNorm, c.rmsNormEps, n);
      this.see(l, ['mlp.gate_proj.weight', 'mlp.up_proj.weight'], h2, n);
      const act = swiglu(matmulT(h2, w.gate, n, D, F), matmulT(h2, w.up, n, D, F));
      this.see(l, ['mlp.down_proj.weight'], act, n);
      addInPlace(x, matmulT(act, w.down, n, F, D));
    }
    this.pos += n;
    const rows = lastOnly ? 1 : n;
    const last = x.subarray((n - rows) * D);
    const normed = rmsNorm(last, this.finalNorm, c.rmsNormEps, rows);
    if (this.observe && !lastOnly) this.observe(c.tieWordEmbeddings ? EMBED : LM_HEAD, normed, rows);
    return matmulT(normed, this.lmHead, rows, D, c.vocabSize);
  }

  private see(layer: number, weights: LayerTensor[], input: Float32Array, rows: number) {
    if (this.observe) for (const w of weights) this.observe(layerName(layer, w), input, rows);
  }
}
