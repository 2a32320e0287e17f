// Model IR -> an ONNX Llama-family decoder with a KV cache, in the layout transformers.js and Optimum use:
// inputs input_ids, attention_mask, position_ids, past_key_values.N.key|value ([batch, kv_heads, past, head_dim]);
// outputs logits and present.N.key|value. Built from standard ONNX ops (opset 17) plus com.microsoft
// MatMulNBits for 4-bit weights, so onnxruntime-web runs it on both its wasm and WebGPU providers.
// The fp16 variant is Optimum's fp16 export: weights, activations, KV cache and logits in float16, with
// RMSNorm and softmax computed in float32 as HF's Llama does (transformers.js reads the cache type from the
// session and casts logits to float32). The q8 variant puts Q8_0 weights in 8-bit MatMulNBits (q8-weights.ts).
// Grouped-query attention keeps kv_heads from the config: queries are viewed as [batch, kv, group, seq, dim]
// and MatMul broadcasts each cached head over its group, with no copy of the cache.
import type { Model } from '../../model/model';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from '../../model/names';
import { convertRopeStyle } from '../../model/rope-permute';
import { encode } from '../../model/dtype';
import { toFloat32, type Tensor } from '../../model/tensor';
import { GraphBuilder, type BuildOptions, type OnnxModelFiles } from './graph';
import { fitsMatMulNBits, toMatMulNBits } from './matmul-nbits';
import { fitsQ8MatMulNBits, q8ToMatMulNBits } from './q8-weights';
import { DataType } from './proto';

export const ONNX_OPSET = 17;
export const MS_DOMAIN = 'com.microsoft';

export interface DecoderOptions {
  /**
   * Weights of our 4-bit int family become MatMulNBits (the q4 variant); false dequantizes every weight
   * to f32 MatMul (the fp32 variant). Tensors MatMulNBits cannot take stay f32 either way.
   */
  matmulNBits?: boolean;
  /** Q8_0 weights become 8-bit MatMulNBits (the q8 variant); otherwise they are dequantized like the rest. */
  q8MatMulNBits?: boolean;
  /** Everything in float16 (the fp16 variant): weights, activations, KV cache inputs/outputs and logits. */
  float16?: boolean;
  /**
   * MatMulNBits accuracy_level, always written: 0 unset (provider default), 1 fp32, 2 fp16, 3 bf16,
   * 4 int8 activations. Default 1: the file computes what was measured. 4 is faster on ONNX Runtime's CPU/wasm
   * kernel but quantizes activations (stories260K's logits move by ~0.1); the WebGPU kernel ignores it.
   */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** Passed to the builder: external data file name, threshold, alignment. */
  build?: BuildOptions;
}

/** What a decoder graph exposes, for callers that feed it (tests, bench, runtimes). */
export interface DecoderSignature {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Names of the weights that became MatMulNBits (4-bit in q4, 8-bit in q8). */
  quantized: string[];
  /** Element type of logits and the KV cache. */
  floatType: 'float32' | 'float16';
}

const NEG = -3.4028234663852886e38; // float32 lowest: masked scores, never -Infinity (a fully masked row stays finite)

/** [out, in] weight -> [in, out] values for MatMul(x, W^T). */
function transposed(t: Tensor): Float32Array {
  const [rows, cols] = t.shape;
  const w = toFloat32(t);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

export function buildDecoder(input: Model, opts: DecoderOptions = {}): { files: OnnxModelFiles; signature: DecoderSignature } {
  // HF and ONNX models rotate halves (rotate_half); rows move as stored bytes, so 4-bit q/k stay 4-bit.
  const model = convertRopeStyle(input, 'half');
  const c = model.config;
  const { numHeads: H, numKvHeads: KV, headDim: hd } = c;
  const G = H / KV;
  const useNBits = opts.matmulNBits ?? true;
  const accuracyLevel = opts.accuracyLevel ?? 1;
  const FT = opts.float16 ? DataType.FLOAT16 : DataType.FLOAT;
  /** Float values in the graph's float type. */
  const fdata = (v: Float32Array) => (opts.float16 ? encode('f16', v) : v);
  const fweight = (name: string, shape: readonly number[], v: Float32Array) => g.weight(name, FT, shape, fdata(v));
  const fconst = (name: string, v: number[]) => fweight(g.fresh(name), [], Float32Array.from(v));
  const g = new GraphBuilder('decoder', ONNX_OPSET).useDomain(MS_DOMAIN, 1);
  const quantized: string[] = [];
  const tensor = (name: string) => {
    const t = model.tensors.get(name);
    if (!t) throw new Error(`ONNX export: model has no tensor ${name}`);
    return t;
  };

  // ---- inputs
  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const past: [string, string][] = [];
  for (let l = 0; l < c.numLayers; l++) {
    past.push([
      g.input(`past_key_values.${l}.key`, FT, ['batch_size', KV, 'past_sequence_length', hd]),
      g.input(`past_key_values.${l}.value`, FT, ['batch_size', KV, 'past_sequence_length', hd]),
    ]);
  }

  // ---- helpers
  const i64 = (name: string, v: number[]) => g.constInt64(name, v);
  const axesLast = i64('axes_last', [-1]);
  const linear = (x: string, name: string, bias?: string): string => {
    const t = tensor(name);
    let y: string;
    const q4 = useNBits && fitsMatMulNBits(t), q8 = !!opts.q8MatMulNBits && fitsQ8MatMulNBits(t);
    if (q4 || q8) {
      const w = q4 ? toMatMulNBits(t) : q8ToMatMulNBits(t);
      quantized.push(name);
      const b = g.weight(`${name}_Q${w.bits}`, DataType.UINT8, [w.n, w.k / w.blockSize, (w.blockSize * w.bits) / 8], w.b);
      const s = g.weight(`${name}_scales`, DataType.FLOAT, [w.scales.length], w.scales);
      const z = g.weight(`${name}_zp`, w.zeroPoints instanceof Uint8Array ? DataType.UINT8 : DataType.FLOAT, [w.zeroPoints.length], w.zeroPoints);
      y = g.op('MatMulNBits', [x, b, s, z], { K: w.k, N: w.n, bits: w.bits, block_size: w.blockSize, accuracy_level: accuracyLevel },
        { domain: MS_DOMAIN, name: `${name}_MatMulNBits` });
    } else {
      const w = fweight(`${name}_T`, [t.shape[1], t.shape[0]], transposed(t));
      y = g.op('MatMul', [x, w], {}, { name: `${name}_MatMul` });
    }
    if (bias && model.tensors.has(bias)) y = g.op('Add', [y, fweight(bias, tensor(bias).shape, toFloat32(tensor(bias)))]);
    return y;
  };
  const eps = g.constFloat('rms_eps', [c.rmsNormEps], []);
  const toF32 = (t: string) => (opts.float16 ? g.op('Cast', [t], { to: DataType.FLOAT }) : t);
  const fromF32 = (t: string) => (opts.float16 ? g.op('Cast', [t], { to: DataType.FLOAT16 }) : t);
  const rmsNorm = (input: string, weight: string): string => {
    const w = fweight(weight, tensor(weight).shape, toFloat32(tensor(weight)));
    const x = toF32(input); // float32 statistics in the fp16 variant: x*x overflows float16 on real models
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, eps])])]);
    return g.op('Mul', [fromF32(g.op('Mul', [x, inv])), w]);
  };

  // ---- embeddings
  const embedTable = fweight(EMBED, tensor(EMBED).shape, toFloat32(tensor(EMBED)));
  let x = g.op('Gather', [embedTable, inputIds], { axis: 0 }, { name: 'embed' });

  // ---- RoPE: cos/sin [batch, 1, seq, head_dim] (rotate_half layout) gathered by position_ids from tables
  // computed here in double precision, as our runtimes do; GPU sin/cos of large angles is far less exact.
  const half = hd / 2;
  const cosTable = new Float32Array(c.maxPositions * half), sinTable = new Float32Array(c.maxPositions * half);
  for (let p = 0; p < c.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(c.ropeTheta, (-2 * i) / hd);
      cosTable[p * half + i] = Math.cos(angle);
      sinTable[p * half + i] = Math.sin(angle);
    }
  }
  const axes1 = i64('axes_1', [1]);
  const table = (name: string, values: Float32Array) => {
    const w = fweight(name, [c.maxPositions, half], values);
    const t = g.op('Gather', [w, positionIds], { axis: 0 }); // [b, s, half]
    return g.op('Unsqueeze', [g.op('Concat', [t, t], { axis: -1 }), axes1], {}, { name }); // [b, 1, s, hd]
  };
  const cos = table('rope_cos', cosTable);
  const sin = table('rope_sin', sinTable);
  const halves = i64('rope_split', [hd / 2, hd / 2]);
  const rope = (t: string) => {
    const [a, b] = g.node('Split', [t, halves], { axis: -1 }, { outputs: 2 });
    const rotated = g.op('Concat', [g.op('Neg', [b]), a], { axis: -1 });
    return g.op('Add', [g.op('Mul', [t, cos]), g.op('Mul', [rotated, sin])]);
  };

  // ---- mask [batch, 1, 1, seq, total]: causal (key index <= query index) and not padding
  const shapeIds = g.op('Shape', [inputIds]);
  const shapeMask = g.op('Shape', [attentionMask]);
  const seqLen = g.op('Gather', [shapeIds, i64('idx_1', [1])], { axis: 0 }); // [1]
  const totalLen = g.op('Gather', [shapeMask, i64('idx_1b', [1])], { axis: 0 });
  const scalar = (t: string) => g.op('Squeeze', [t, i64('axes_0', [0])]);
  const total = scalar(totalLen);
  const one = g.constInt64('one', [1], []);
  const zero = g.constInt64('zero', [0], []);
  const keyIdx = g.op('Range', [zero, total, one]); // [total]
  const queryIdx = g.op('Range', [g.op('Sub', [total, scalar(seqLen)]), total, one]); // [seq]
  const causal = g.op('LessOrEqual', [
    g.op('Unsqueeze', [keyIdx, i64('axes_0b', [0])]), // [1, total]
    g.op('Unsqueeze', [queryIdx, axesLast]), // [seq, 1]
  ]); // [seq, total]
  const padding = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: DataType.BOOL }), i64('axes_123', [1, 2, 3])]); // [b,1,1,1,total]
  const mask = g.op('And', [causal, padding], {}, { name: 'attn_mask' }); // [b,1,1,seq,total]
  const negInf = g.constFloat('neg', [NEG], []);
  const scale = fconst('attn_scale', [1 / Math.sqrt(hd)]);

  const headsShape = (n: number) => i64(`shape_heads_${n}`, [0, 0, n, hd]);
  const qShape = headsShape(H), kvShape = KV === H ? qShape : headsShape(KV);
  const groupShape = i64('shape_group', [0, KV, G, -1, hd]);
  const mergeShape = i64('shape_merge', [0, 0, H * hd]);
  const headsBack = i64('shape_heads_back', [0, H, -1, hd]);
  const toHeads = (t: string, shape: string) => g.op('Transpose', [g.op('Reshape', [t, shape])], { perm: [0, 2, 1, 3] });

  // ---- layers
  const L = (l: number, t: LayerTensor) => layerName(l, t);
  for (let l = 0; l < c.numLayers; l++) {
    const h = rmsNorm(x, L(l, 'input_layernorm.weight'));
    const q = rope(toHeads(linear(h, L(l, 'self_attn.q_proj.weight'), L(l, 'self_attn.q_proj.bias')), qShape)); // [b,H,s,hd]
    const k = rope(toHeads(linear(h, L(l, 'self_attn.k_proj.weight'), L(l, 'self_attn.k_proj.bias')), kvShape)); // [b,KV,s,hd]
    const v = toHeads(linear(h, L(l, 'self_attn.v_proj.weight'), L(l, 'self_attn.v_proj.bias')), kvShape);
    const presentK = g.op('Concat', [past[l][0], k], { axis: 2 }, { output: `present.${l}.key` }); // [b,KV,T,hd]
    const presentV = g.op('Concat', [past[l][1], v], { axis: 2 }, { output: `present.${l}.value` });
    const qg = g.op('Reshape', [g.op('Mul', [q, scale]), groupShape]); // [b,KV,G,s,hd]
    const kg = g.op('Unsqueeze', [presentK, i64(`axes_2_${l}`, [2])]); // [b,KV,1,T,hd]
    const vg = g.op('Unsqueeze', [presentV, i64(`axes_2v_${l}`, [2])]);
    const scores = g.op('MatMul', [qg, g.op('Transpose', [kg], { perm: [0, 1, 2, 4, 3] })]); // [b,KV,G,s,T]
    const probs = fromF32(g.op('Softmax', [g.op('Where', [mask, toF32(scores), negInf])], { axis: -1 })); // f32, as HF
    const ctx = g.op('Reshape', [g.op('MatMul', [probs, vg]), headsBack]); // [b,H,s,hd]
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), mergeShape]); // [b,s,H*hd]
    x = g.op('Add', [x, linear(merged, L(l, 'self_attn.o_proj.weight'))], {}, { name: `residual_attn_${l}` });
    const h2 = rmsNorm(x, L(l, 'post_attention_layernorm.weight'));
    const gate = linear(h2, L(l, 'mlp.gate_proj.weight'));
    const up = linear(h2, L(l, 'mlp.up_proj.weight'));
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    x = g.op('Add', [x, linear(act, L(l, 'mlp.down_proj.weight'))], {}, { name: `residual_mlp_${l}` });
  }

  // ---- head
  const xn = rmsNorm(x, FINAL_NORM);
  let logits: string;
  if (c.tieWordEmbeddings && !(useNBits && fitsMatMulNBits(tensor(EMBED)))) {
    // the embedding table itself, transposed by a node ONNX Runtime folds at load (no second copy on disk)
    logits = g.op('MatMul', [xn, g.op('Transpose', [embedTable], { perm: [1, 0] })], {}, { output: 'logits' });
  } else {
    const head = linear(xn, c.tieWordEmbeddings ? EMBED : LM_HEAD);
    logits = g.op('Identity', [head], {}, { output: 'logits' });
  }

  g.output(logits, FT, ['batch_size', 'sequence_length', c.vocabSize]);
  for (let l = 0; l < c.numLayers; l++) {
    g.output(`present.${l}.key`, FT, ['batch_size', KV, 'total_sequence_length', hd]);
    g.output(`present.${l}.value`, FT, ['batch_size', KV, 'total_sequence_length', hd]);
  }
  const files = g.build({ docString: `${c.architecture} decoder with KV cache, exported by compression-lab from ${input.source.name}`, ...opts.build });
  const floatType = opts.float16 ? 'float16' : 'float32';
  return { files, signature: { numLayers: c.numLayers, numKvHeads: KV, headDim: hd, vocabSize: c.vocabSize, quantized, floatType } };
}
