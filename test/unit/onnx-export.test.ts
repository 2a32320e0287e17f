// The ONNX exporter in Node: protobuf structure, the MatMulNBits relayout against its own dequantizer, and
// the decoder run in onnxruntime-node (the same kernels as onnxruntime-web's wasm provider) against our CPU
// reference: stories260K fp32 and q4, a synthetic Qwen2-style model (GQA 4:2, q/k/v bias, tied embeddings,
// interleaved weights) with a left-padded batch, and weights in chunked external data files.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExportFiles } from '../../node/export-dir';
import { buildDecoder } from '../../src/io/onnx/decoder';
import { defaultQ4, exportOnnxVariant } from '../../src/io/onnx/export';
import { defaultQ8, q8ToMatMulNBits } from '../../src/io/onnx/q8-weights';
import { dequantMatMulNBits, exactScale, fitsMatMulNBits, quantizeMatMulNBits, toMatMulNBits } from '../../src/io/onnx/matmul-nbits';
import { f16ToF32, f32ToF16 } from '../../src/model/half';
import { passes } from '../../src/passes/index';
import { OrtDecoder, type OrtModule } from '../../src/io/onnx/ort-decoder';
import { decodeModel } from '../../src/io/onnx/proto';
import type { ModelConfig } from '../../src/model/config';
import { encode } from '../../src/model/dtype';
import { expectedShapes, type Model } from '../../src/model/model';
import { convertRopeStyle } from '../../src/model/rope-permute';
import { f32Tensor, makeTensor, toFloat32, type Tensor } from '../../src/model/tensor';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

const ORT = ort as unknown as OrtModule;

/** Deterministic pseudo-random values in [-a, a). */
function noise(n: number, seed: number, a = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 2 ** 32 - 0.5) * 2 * a;
  });
}

function syntheticModel(over: Partial<ModelConfig> = {}): Model {
  const config: ModelConfig = {
    architecture: 'qwen2', hiddenSize: 64, intermediateSize: 96, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
    vocabSize: 96, maxPositions: 64, rmsNormEps: 1e-6, ropeTheta: 10000, ropeStyle: 'interleaved', attentionBias: true,
    tieWordEmbeddings: true, bosTokenId: 1, eosTokenId: 2, ...over,
  };
  const tensors = new Map<string, Tensor>();
  let seed = 7;
  for (const [name, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = name.endsWith('norm.weight') ? noise(n, seed++, 0.2).map((x) => 1 + x) : noise(n, seed++, name.endsWith('bias') ? 0.5 : 0.3);
    tensors.set(name, f32Tensor(name, shape, v));
  }
  return { config, tensors, source: { format: 'synthetic', name: 'synthetic' } };
}

/** Logits of `tokens`: the first `prefill` in one call, then one per call (exercising the KV cache). */
async function stepwise(rt: { forward(t: number[]): Promise<Float32Array> }, tokens: number[], prefill: number) {
  const parts = [await rt.forward(tokens.slice(0, prefill))];
  for (let i = prefill; i < tokens.length; i++) parts.push(await rt.forward([tokens[i]]));
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

describe('MatMulNBits relayout', () => {
  it('reconstructs our int4 blocks with float zero points (RTN min/max grid; group 16, 32, 128; a constant block)', () => {
    for (const group of [16, 32, 128] as const) {
      const v = noise(8 * 256, group);
      v.fill(0.25, 0, group); // scale 0: every weight is the offset
      const t = makeTensor('w', [8, 256], `int4_g${group}`, encode(`int4_g${group}`, v));
      expect(fitsMatMulNBits(t)).toBe(true);
      const w = toMatMulNBits(t);
      expect(w.zeroPoints).toBeInstanceOf(Float32Array);
      expect([w.n, w.k, w.bits, w.blockSize, w.b.byteLength, w.scales.length]).toEqual([8, 256, 4, group, 8 * 128, (8 * 256) / group]);
      expect(maxAbsDiff(dequantMatMulNBits(w), toFloat32(t))).toBeLessThan(1e-6);
      expect(Array.from(dequantMatMulNBits(w).subarray(0, group))).toEqual(Array(group).fill(0.25));
    }
    expect(fitsMatMulNBits(makeTensor('w', [4, 64], 'int8_g32', encode('int8_g32', noise(256, 1))))).toBe(false);
    expect(fitsMatMulNBits(f32Tensor('w', [4, 64], noise(256, 1)))).toBe(false);
  });

  it('integer zero points pack as uint4 (odd block count per row) and dequantize bit for bit like ours', () => {
    const v = noise(6 * 96, 3).map((x, i) => (i < 96 ? Math.abs(x) : x)); // row 0 all positive: zp 0
    const t = quantizeMatMulNBits(f32Tensor('w', [6, 96], v), 32);
    expect(t.dtype).toBe('int4_g32');
    const w = toMatMulNBits(t);
    expect(w.zeroPoints).toBeInstanceOf(Uint8Array);
    expect(w.zeroPoints.length).toBe(6 * 2); // 3 blocks per row -> 2 bytes
    expect(dequantMatMulNBits(w)).toEqual(toFloat32(t));
    expect(maxAbsDiff(toFloat32(t), v)).toBeLessThan((2 / 15) * 1.01 * 0.5); // half a step of the widest block (range < 2)
    expect(toMatMulNBits(t, 'float').zeroPoints).toBeInstanceOf(Float32Array);
    for (const s of [1e-3, 0.0123, 0.3, 7.77]) {
      const e = exactScale(s);
      expect(e).toBeGreaterThanOrEqual(s);
      expect(e / s).toBeLessThan(1.0081);
      for (let zp = 0; zp < 16; zp++) expect(f16ToF32(f32ToF16(-zp * e))).toBe(-zp * e);
    }
  });
});

describe('decoder graph', () => {
  it('declares the transformers.js signature, opsets and an explicit accuracy_level', async () => {
    const q4 = await defaultQ4(syntheticModel());
    const { files, signature } = buildDecoder(q4, { accuracyLevel: 4 });
    const m = decodeModel(files.onnx);
    expect(m.opsetImport).toEqual(expect.arrayContaining([{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }]));
    const inputs = m.graph.input.map((i) => i.name);
    expect(inputs.slice(0, 3)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(inputs).toContain('past_key_values.1.value');
    expect(m.graph.output.map((o) => o.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const pastDims = m.graph.input[3].type.tensorType.shape.dim;
    expect(pastDims).toEqual([{ dimParam: 'batch_size' }, { dimValue: 2 }, { dimParam: 'past_sequence_length' }, { dimValue: 16 }]);
    const nbits = m.graph.node.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits).toHaveLength(14); // 7 linears x 2 layers; the tied embedding / head stays f32
    expect(signature.quantized).toHaveLength(14);
    for (const n of nbits) {
      expect(n.domain).toBe('com.microsoft');
      const attrs = Object.fromEntries(n.attribute.map((a) => [a.name, a.i]));
      expect(attrs).toMatchObject({ bits: 4, block_size: 32, accuracy_level: 4 });
    }
    const zp = m.graph.initializer.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight_zp')!;
    expect([zp.dataType, zp.dims]).toEqual([2, [64 * 2 / 2]]); // uint8, 2 blocks per row packed in one byte
    const byDefault = decodeModel(buildDecoder(q4).files.onnx).graph.node.find((n) => n.opType === 'MatMulNBits')!;
    expect(byDefault.attribute.find((a) => a.name === 'accuracy_level')!.i).toBe(1);
  });

  it('names a missing tensor', () => {
    const m = syntheticModel();
    const tensors = new Map(m.tensors);
    tensors.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => buildDecoder({ ...m, tensors })).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
  });
});

describe('synthetic Qwen2-style model in onnxruntime-node', () => {
  const model = syntheticModel();
  const tokens = [1, 5, 17, 33, 60, 2, 9, 88, 41, 7, 3, 70];

  it('fp32 and q4 logits match the CPU reference through prefill and decode (GQA, bias, tied, interleaved)', async () => {
    const q4 = await defaultQ4(model);
    // RTN's min/max grid has float zero points: the float-zero-point MatMulNBits path
    const rtn = await passes.rtn.apply(model, passes.rtn.params.parse({ dtype: 'int4_g32' }), {});
    for (const [variant, m, tol] of [['fp32', model, 1e-4], ['q4', q4, 1e-4], ['q4', rtn, 1e-4]] as const) {
      const onnx = exportOnnxVariant(m, variant).files[0].parts[0];
      const dec = await OrtDecoder.create(ORT, onnx, m.config, { executionProvider: 'cpu' });
      const diff = maxAbsDiff(await stepwise(dec, tokens, 7), await new CpuRuntime(m).forward(tokens));
      dec.dispose();
      console.log(`synthetic ${variant}: max |ORT-node - CPU| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(tol);
    }
  });

  it('a left-padded batch of two gives each row its unpadded logits', async () => {
    const onnx = exportOnnxVariant(model, 'fp32').files[0].parts[0];
    const session = await ort.InferenceSession.create(onnx);
    const a = tokens.slice(0, 8), b = tokens.slice(0, 5);
    const pad = a.length - b.length;
    const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
    const mask = [...a.map(() => 1), ...Array(pad).fill(0), ...b.map(() => 1)];
    const c = model.config;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: i64([...a, ...Array(pad).fill(0), ...b], [2, a.length]),
      attention_mask: i64(mask, [2, a.length]),
      position_ids: i64([...a.map((_, i) => i), ...Array(pad).fill(1), ...b.map((_, i) => i)], [2, a.length]),
    };
    for (let l = 0; l < c.numLayers; l++) for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [2, c.numKvHeads, 0, c.headDim]);
    }
    const logits = (await session.run(feeds)).logits.data as Float32Array;
    const V = c.vocabSize;
    expect(maxAbsDiff(logits.subarray(0, a.length * V), await new CpuRuntime(model).forward(a))).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.subarray((a.length + pad) * V), await new CpuRuntime(model).forward(b))).toBeLessThan(1e-4);
    await session.release();
  });

  it('external data: chunked files beside the .onnx load from disk with the same logits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-onnx-'));
    try {
      const set = exportOnnxVariant(model, 'fp32', { externalData: true, externalChunkBytes: 64 * 1024 });
      expect(set.externalChunks).toBeGreaterThan(1);
      expect(set.files.map((f) => f.path).slice(0, 3)).toEqual(['onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
      expect(set.files[0].bytes).toBeLessThan(32 * 1024); // graph and small constants only
      writeExportFiles(dir, set.files);
      expect(readdirSync(join(dir, 'onnx')).length).toBe(1 + set.externalChunks);
      const session = await ort.InferenceSession.create(join(dir, 'onnx/model.onnx'));
      const c = model.config;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(tokens.length).fill(1n), [1, tokens.length]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map((_, i) => BigInt(i))), [1, tokens.length]),
      };
      for (let l = 0; l < c.numLayers; l++) for (const kv of ['key', 'value']) {
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
      }
      const logits = (await session.run(feeds)).logits.data as Float32Array;
      expect(maxAbsDiff(logits, await new CpuRuntime(model).forward(tokens))).toBeLessThan(1e-4);
      await session.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithShared('stories260K in onnxruntime-node', [STORIES.gguf, STORIES.reference], () => {
  let base: Model, q4: Model;
  beforeAll(async () => {
    base = await loadStoriesGguf(); // interleaved (GGUF llama): the exporter permutes q/k rows itself
    q4 = await defaultQ4(base);
  });
  afterAll(() => undefined);

  it('fp32 and q4 (4-bit q/k rows moved as stored blocks) match our CPU logits over 40 positions', async () => {
    const c = referenceCase('Once upon a time');
    const tokens = [...c.prompt_tokens, ...c.generated_tokens].slice(0, 40);
    for (const [variant, m] of [['fp32', base], ['q4', q4]] as const) {
      const set = exportOnnxVariant(m, variant);
      expect(set.signature.quantized.length).toBe(variant === 'q4' ? 30 : 0);
      const dec = await OrtDecoder.create(ORT, set.files[0].parts[0], m.config, { executionProvider: 'cpu' });
      const diff = maxAbsDiff(await stepwise(dec, tokens, 20), await new CpuRuntime(m).forward(tokens));
      dec.dispose();
      console.log(`stories260K ${variant}: ${set.files[0].bytes} bytes, max |ORT-node - CPU| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
    }
    // permuting rows as stored bytes keeps 4-bit q/k 4-bit and computes the same
    const half = convertRopeStyle(q4, 'half');
    expect(half.tensors.get('model.layers.0.self_attn.q_proj.weight')!.dtype).toBe('int4_g32');
    expect(maxAbsDiff(await new CpuRuntime(half).forward(tokens), await new CpuRuntime(q4).forward(tokens))).toBeLessThan(1e-4);
  });
});

/** The model model_fp16.onnx computes from: every 2-D weight rounded to f16. */
const f16Weights = (m: Model): Model => ({
  ...m, tensors: new Map([...m.tensors].map(([n, t]) => [n, t.shape.length === 2 ? makeTensor(n, t.shape, 'f16', encode('f16', toFloat32(t))) : t])),
});

describe('fp16 and q8 variants in onnxruntime-node', () => {
  const model = syntheticModel();
  const tokens = [1, 5, 17, 33, 60, 2, 9, 88, 41, 7, 3, 70];

  it('q8: Q8_0 blocks relayout to 8-bit MatMulNBits exactly (q + 128, zero point 128)', async () => {
    const q8 = await defaultQ8(model);
    const t = q8.tensors.get('model.layers.0.mlp.down_proj.weight')!;
    expect(t.dtype).toBe('q8_0');
    const w = q8ToMatMulNBits(t);
    expect([w.bits, w.blockSize, w.b.byteLength]).toEqual([8, 32, 64 * 96]);
    expect(dequantMatMulNBits(w)).toEqual(toFloat32(t));
  });

  it('fp16 (float16 I/O and KV cache) and q8 match our runtime on the same weights through prefill and decode', async () => {
    const q8 = await defaultQ8(model);
    for (const [variant, m, ref, tol] of [['fp16', model, f16Weights(model), 2e-2], ['q8', q8, q8, 1e-4]] as const) {
      const set = exportOnnxVariant(m, variant);
      const g = decodeModel(set.files[0].parts[0]).graph;
      const elem = (v: { type: { tensorType: { elemType: number } } }) => v.type.tensorType.elemType;
      expect([elem(g.output[0]), elem(g.input[3])]).toEqual(variant === 'fp16' ? [10, 10] : [1, 1]); // float16 / float
      expect(set.signature.quantized).toHaveLength(variant === 'q8' ? 14 : 0);
      const dec = await OrtDecoder.create(ORT, set.files[0].parts[0], m.config, { executionProvider: 'cpu', floatType: set.signature.floatType });
      const diff = maxAbsDiff(await stepwise(dec, tokens, 7), await new CpuRuntime(ref).forward(tokens));
      dec.dispose();
      console.log(`synthetic ${variant}: ${set.files[0].bytes} bytes, max |ORT-node - CPU| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(tol);
    }
  });
});

describe('pruned shapes (structured pruning leaves a smaller, uneven config)', () => {
  it('6 query heads over 3 kv heads, FFN 129, 3 layers: all four variants follow the config and match our runtime', async () => {
    const model = syntheticModel({ numHeads: 6, numKvHeads: 3, intermediateSize: 129, numLayers: 3 });
    const tokens = [1, 5, 17, 33, 60, 2, 9, 88];
    const q4 = await defaultQ4(model), q8 = await defaultQ8(model);
    // down_proj (129 inputs) fits no 4- or 8-bit block: it stays a float MatMul in q4 and q8
    expect(q4.tensors.get('model.layers.0.mlp.down_proj.weight')!.dtype).toBe('f16');
    expect(q8.tensors.get('model.layers.0.mlp.down_proj.weight')!.dtype).toBe('f32');
    const cases = [['fp32', model, model, 1e-4], ['fp16', model, f16Weights(model), 2e-2], ['q4', q4, q4, 1e-4], ['q8', q8, q8, 1e-4]] as const;
    for (const [variant, m, ref, tol] of cases) {
      const set = exportOnnxVariant(m, variant);
      expect(set.signature.numKvHeads).toBe(3);
      const dec = await OrtDecoder.create(ORT, set.files[0].parts[0], m.config, { executionProvider: 'cpu', floatType: set.signature.floatType });
      const diff = maxAbsDiff(await stepwise(dec, tokens, 5), await new CpuRuntime(ref).forward(tokens));
      dec.dispose();
      expect(diff, variant).toBeLessThanOrEqual(tol);
    }
  });
});

describeWithShared('stories260K fp16 and q8 in onnxruntime-node', [STORIES.gguf, STORIES.reference], () => {
  it('fp16 within 5e-2 of our runtime on f16 weights, q8 within 1e-4 of our runtime on the Q8_0 model, over 40 positions', async () => {
    const base = await loadStoriesGguf();
    const c = referenceCase('Once upon a time');
    const tokens = [...c.prompt_tokens, ...c.generated_tokens].slice(0, 40);
    const q8 = await defaultQ8(base);
    const fp32 = await new CpuRuntime(base).forward(tokens);
    for (const [variant, m, ref, tol] of [['fp16', base, f16Weights(base), 5e-2], ['q8', q8, q8, 1e-4]] as const) {
      const set = exportOnnxVariant(m, variant);
      const dec = await OrtDecoder.create(ORT, set.files[0].parts[0], m.config, { executionProvider: 'cpu', floatType: set.signature.floatType });
      const logits = await stepwise(dec, tokens, 20);
      dec.dispose();
      const diff = maxAbsDiff(logits, await new CpuRuntime(ref).forward(tokens));
      console.log(`stories260K ${variant}: ${set.files[0].bytes} bytes, max |ORT-node - CPU same weights| ${diff.toExponential(2)}, vs fp32 ${maxAbsDiff(logits, fp32).toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(tol);
    }
  });
});

describe('q4 export guards', () => {
  it('refuses a model_q4.onnx without 4-bit weights, and keeps 4-bit weights as they are', async () => {
    const model = syntheticModel();
    expect(() => exportOnnxVariant(model, 'q4')).toThrow(/model_q4\.onnx: the model has no 4-bit weights/);
    expect(() => exportOnnxVariant(model, 'q8')).toThrow(/model_quantized\.onnx: the model has no q8_0 weights/);
    const q4 = await defaultQ4(model);
    const again = await defaultQ4(q4);
    for (const [name, t] of q4.tensors) expect(again.tensors.get(name), name).toBe(t);
  });
});
