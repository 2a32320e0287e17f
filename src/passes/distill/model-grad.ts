// The whole Llama forward over one sequence with the activations backward needs (a "tape"), and the
// backward through every layer into per-weight gradients. Same arithmetic as CpuRuntime.forwardSync
// (the forward ops are cpu-reference's own), starting at position 0 with no cache.
import type { ModelConfig } from '../../model/config';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from '../../model/names';
import { addInPlace } from '../../runtime/cpu-reference';
import {
  attentionBackward, attentionForward, embeddingBackward, embeddingForward, matmulBackward, matmulForward,
  rmsNormBackward, rmsNormForward, ropeBackward, ropeForward, swigluBackward, swigluForward,
} from './ops/index';

/** The weight a forward uses under a canonical name (undefined for an absent optional bias). */
export type WeightFn = (name: string) => Float32Array | undefined;
/** Where the gradient of a weight accumulates; undefined when that weight is frozen (its dW is skipped). */
export type GradFn = (name: string) => Float32Array | undefined;

interface LayerTape {
  xIn: Float32Array; h: Float32Array; q: Float32Array; k: Float32Array; v: Float32Array; att: Float32Array;
  xMid: Float32Array; h2: Float32Array; gate: Float32Array; up: Float32Array; act: Float32Array;
}

export interface Tape {
  tokens: ArrayLike<number>;
  layers: LayerTape[];
  /** Residual stream after the last layer, and its final RMSNorm (the lm_head input). */
  xFinal: Float32Array;
  hidden: Float32Array;
}

export const lmHeadName = (c: ModelConfig) => (c.tieWordEmbeddings ? EMBED : LM_HEAD);

function need(w: WeightFn, name: string): Float32Array {
  const t = w(name);
  if (!t) throw new Error(`model has no tensor ${name}`);
  return t;
}

/** tokens [n] -> logits [n, vocab], the final normed hidden state [n, hidden] and the tape for backwardModel. */
export function forwardModel(c: ModelConfig, w: WeightFn, tokens: ArrayLike<number>): { logits: Float32Array; tape: Tape } {
  const n = tokens.length;
  const D = c.hiddenSize, F = c.intermediateSize;
  const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
  const shape = { seq: n, nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim };
  const x = embeddingForward(need(w, EMBED), tokens, D, c.vocabSize);
  const layers: LayerTape[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const L = (t: LayerTensor) => need(w, layerName(l, t));
    const B = (t: LayerTensor) => w(layerName(l, t));
    const xIn = x.slice();
    const h = rmsNormForward(x, L('input_layernorm.weight'), c.rmsNormEps, n);
    const q = matmulForward(h, L('self_attn.q_proj.weight'), n, D, qDim, B('self_attn.q_proj.bias'));
    const k = matmulForward(h, L('self_attn.k_proj.weight'), n, D, kvDim, B('self_attn.k_proj.bias'));
    const v = matmulForward(h, L('self_attn.v_proj.weight'), n, D, kvDim, B('self_attn.v_proj.bias'));
    ropeForward(q, n, c.numHeads, c.headDim, 0, c.ropeTheta, c.ropeStyle);
    ropeForward(k, n, c.numKvHeads, c.headDim, 0, c.ropeTheta, c.ropeStyle);
    const att = attentionForward(q, k, v, shape);
    addInPlace(x, matmulForward(att, L('self_attn.o_proj.weight'), n, qDim, D));
    const xMid = x.slice();
    const h2 = rmsNormForward(x, L('post_attention_layernorm.weight'), c.rmsNormEps, n);
    const gate = matmulForward(h2, L('mlp.gate_proj.weight'), n, D, F);
    const up = matmulForward(h2, L('mlp.up_proj.weight'), n, D, F);
    const act = swigluForward(gate, up);
    addInPlace(x, matmulForward(act, L('mlp.down_proj.weight'), n, F, D));
    layers.push({ xIn, h, q, k, v, att, xMid, h2, gate, up, act });
  }
  const hidden = rmsNormForward(x, need(w, FINAL_NORM), c.rmsNormEps, n);
  const logits = matmulForward(hidden, need(w, lmHeadName(c)), n, D, c.vocabSize);
  return { logits, tape: { tokens, layers, xFinal: x, hidden } };
}

/**
 * Backward from dlogits [n, vocab] (and optionally dhidden [n, hidden], a loss on the final normed hidden
 * state) through every layer; each weight's gradient is added into grad(name) when that returns a buffer.
 */
export function backwardModel(
  c: ModelConfig, w: WeightFn, tape: Tape, dlogits: Float32Array, grad: GradFn, dhidden?: Float32Array,
): void {
  const n = tape.tokens.length;
  const D = c.hiddenSize, F = c.intermediateSize, eps = c.rmsNormEps;
  const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim;
  const shape = { seq: n, nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim };
  const linear = (dy: Float32Array, x: Float32Array, name: string, inDim: number, outDim: number, bias?: string) => {
    const dw = grad(name);
    const db = bias && w(bias) ? grad(bias) : undefined;
    return matmulBackward(dy, x, need(w, name), n, inDim, outDim, { dw, db, weightGrad: dw !== undefined }).dx;
  };
  const norm = (dy: Float32Array, x: Float32Array, name: string) =>
    rmsNormBackward(dy, x, need(w, name), n, D, eps, grad(name)).dx;

  const dHidden = linear(dlogits, tape.hidden, lmHeadName(c), D, c.vocabSize);
  if (dhidden) addInPlace(dHidden, dhidden);
  const dx = norm(dHidden, tape.xFinal, FINAL_NORM);
  for (let l = c.numLayers - 1; l >= 0; l--) {
    const t = tape.layers[l];
    const N = (s: LayerTensor) => layerName(l, s);
    // x_out = xMid + down(swiglu(gate(h2), up(h2))), h2 = norm(xMid)
    const dact = linear(dx, t.act, N('mlp.down_proj.weight'), F, D);
    const { dgate, dup } = swigluBackward(dact, t.gate, t.up);
    const dh2 = linear(dgate, t.h2, N('mlp.gate_proj.weight'), D, F);
    addInPlace(dh2, linear(dup, t.h2, N('mlp.up_proj.weight'), D, F));
    addInPlace(dx, norm(dh2, t.xMid, N('post_attention_layernorm.weight')));
    // xMid = xIn + o(attention(rope(q(h)), rope(k(h)), v(h))), h = norm(xIn)
    const datt = linear(dx, t.att, N('self_attn.o_proj.weight'), qDim, D);
    const g = attentionBackward(datt, t.q, t.k, t.v, shape);
    const dq = ropeBackward(g.dq, n, c.numHeads, c.headDim, 0, c.ropeTheta, c.ropeStyle);
    const dk = ropeBackward(g.dk, n, c.numKvHeads, c.headDim, 0, c.ropeTheta, c.ropeStyle);
    const dh = linear(dq, t.h, N('self_attn.q_proj.weight'), D, qDim, N('self_attn.q_proj.bias'));
    addInPlace(dh, linear(dk, t.h, N('self_attn.k_proj.weight'), D, kvDim, N('self_attn.k_proj.bias')));
    addInPlace(dh, linear(g.dv, t.h, N('self_attn.v_proj.weight'), D, kvDim, N('self_attn.v_proj.bias')));
    addInPlace(dx, norm(dh, t.xIn, N('input_layernorm.weight')));
  }
  const dE = grad(EMBED);
  if (dE) embeddingBackward(dx, tape.tokens, c.vocabSize, D, dE);
}
