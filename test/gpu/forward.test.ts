// The whole WebGPU forward pass against the CPU oracle and llama2.c's golden outputs (stories260K),
// plus a small random model for what stories260K lacks (qkv bias, 'half' RoPE, untied lm_head,
// head_dim != hidden / heads, stored dtypes other than f32).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNodeGpuDevice } from '../../node/gpu';
import { GpuContext } from '../../src/gpu/context';
import type { AdapterClass } from '../../src/gpu/device';
import type { ModelConfig } from '../../src/model/config';
import { f32ToF16 } from '../../src/model/half';
import { expectedShapes, type Model } from '../../src/model/model';
import { f32Tensor, makeTensor, numel, type Tensor } from '../../src/model/tensor';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { generate } from '../../src/runtime/generate';
import { WebGpuRuntime } from '../../src/runtime/webgpu';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

const V = 512;

const NATIVE: AdapterClass = GpuContext.for(await getNodeGpuDevice()).adapterClass;
const MAX_POSITIONS = 256;

// Each kernel family on this adapter: its native one (e.g. 'cpu' on SwiftShader) and the other, forced,
// so the tiled/cooperative GPU kernels run end to end here too. Long generation runs only natively.
for (const kernels of [undefined, NATIVE === 'cpu' ? 'gpu' : 'cpu'] as const) {
describeWithShared(`WebGpuRuntime on stories260K (${kernels ? `forced ${kernels}` : 'native'} kernels)`, [STORIES.gguf, STORIES.reference], () => {
  let gpu: WebGpuRuntime;
  let cpu: CpuRuntime;
  const once = () => referenceCase('Once upon a time');
  // 64 real tokens: the reference prompt and the start of its continuation
  const prompt64 = () => [...once().prompt_tokens, ...once().generated_tokens].slice(0, 64);

  beforeAll(async () => {
    const model = await loadStoriesGguf();
    gpu = await WebGpuRuntime.create(await getNodeGpuDevice(), model, { maxPositions: MAX_POSITIONS, kernels });
    cpu = new CpuRuntime(model, { maxPositions: MAX_POSITIONS });
  });
  afterAll(() => gpu?.dispose());

  it('logits of every row of a 64-token prompt match CpuRuntime (1e-3)', async () => {
    gpu.reset();
    cpu.reset();
    const tokens = prompt64();
    const [g, c] = [await gpu.forward(tokens), await cpu.forward(tokens)];
    expect(g.length).toBe(64 * V);
    const d = maxAbsDiff(g, c);
    console.log(`stories260K 64 rows: GPU vs CPU max|d| = ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(1e-3);
    expect(gpu.position).toBe(64);
  });

  it('matches llama2.c logits after BOS and at the last prompt position (1e-4)', async () => {
    const c = once();
    gpu.reset();
    const d0 = maxAbsDiff(await gpu.forward([1], { lastOnly: true }), c.logits_after_bos_pos0!);
    gpu.reset();
    const last = await gpu.forward(c.prompt_tokens, { lastOnly: true });
    const dl = maxAbsDiff(last, c.logits_at_last_prompt_pos!);
    console.log(`GPU vs llama2.c logits: pos0 max|d| = ${d0.toExponential(2)}, last = ${dl.toExponential(2)}`);
    expect(d0).toBeLessThanOrEqual(1e-4);
    expect(dl).toBeLessThanOrEqual(1e-4);
    expect(last.indexOf(Math.max(...last))).toBe(c.argmax_at_last_prompt_pos);
  });

  // the forced kernel family is slow on SwiftShader: there, 12 tokens of the first case stand in for the rest
  it(`greedy generation reproduces run.c and the CPU runtime${kernels ? ' (first 12 tokens)' : ' for both reference prompts'}`, async () => {
    for (const prompt of kernels ? ['Once upon a time'] : ['Once upon a time', '']) {
      const c = referenceCase(prompt);
      const steps = kernels ? 12 : c.steps - c.prompt_tokens.length + 1;
      const opts = { maxNewTokens: steps, stopTokens: [1] };
      const g = await generate(gpu, c.prompt_tokens, opts);
      expect(g.tokens).toEqual(c.generated_tokens.slice(0, steps));
      if (prompt) expect((await generate(cpu, c.prompt_tokens, opts)).tokens).toEqual(g.tokens);
    }
  });

  it('incremental decode (prefill, then one token at a time) equals one full batch', async () => {
    const tokens = prompt64().slice(0, kernels ? 24 : 40); // fewer decode steps where slow (forced kernels on SwiftShader)
    gpu.reset();
    const full = await gpu.forward(tokens);
    gpu.reset();
    const rows = [await gpu.forward(tokens.slice(0, 17))];
    for (const t of tokens.slice(17)) rows.push(await gpu.forward([t], { lastOnly: true }));
    const incremental = new Float32Array(full.length);
    let at = 0;
    for (const r of rows) incremental.set(r, (at += r.length) - r.length);
    expect(maxAbsDiff(incremental, full)).toBeLessThanOrEqual(1e-4);
    gpu.reset();
    expect(maxAbsDiff(await gpu.forward(tokens, { lastOnly: true }), full.subarray((tokens.length - 1) * V))).toBeLessThanOrEqual(1e-5);
  });

  it('a prompt longer than maxBatchRows runs in chunks and matches the CPU (all rows and lastOnly)', async () => {
    const model = await loadStoriesGguf();
    const chunked = await WebGpuRuntime.create(await getNodeGpuDevice(), model, { maxPositions: 128, maxBatchRows: 16, kernels });
    try {
      const tokens = prompt64().slice(0, 45); // 16 + 16 + 13 rows
      cpu.reset();
      const c = await cpu.forward(tokens);
      expect(maxAbsDiff(await chunked.forward(tokens), c)).toBeLessThanOrEqual(1e-3);
      chunked.reset();
      expect(maxAbsDiff(await chunked.forward(tokens, { lastOnly: true }), c.subarray(44 * V))).toBeLessThanOrEqual(1e-3);
      expect(chunked.position).toBe(45);
    } finally {
      chunked.dispose();
    }
  });

  it('rewind recomputes from a cached prefix', async () => {
    const tokens = prompt64().slice(0, 20);
    gpu.reset();
    const full = await gpu.forward(tokens, { lastOnly: true });
    gpu.rewind(12);
    expect(maxAbsDiff(await gpu.forward(tokens.slice(12), { lastOnly: true }), full)).toBeLessThanOrEqual(1e-5);
    expect(() => gpu.rewind(21)).toThrow(/cannot rewind/);
  });

  it('rejects bad input with a clear error and keeps its position', async () => {
    gpu.reset();
    await gpu.forward([1, 2]);
    await expect(gpu.forward([1, V])).rejects.toThrow(/token id 512 outside vocabulary/);
    await expect(gpu.forward(new Array(MAX_POSITIONS))).rejects.toThrow(/context overflow/);
    expect(gpu.position).toBe(2);
  });
});
}


/** A random Model with the given config; every tensor f32 unless `dtype` says otherwise. */
function syntheticModel(config: ModelConfig, seed: number, dtype: (name: string) => 'f32' | 'f16' = () => 'f32'): Model {
  let a = seed;
  const rand = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32 - 0.5;
  };
  const tensors = new Map<string, Tensor>();
  for (const [name, shape] of expectedShapes(config)) {
    // norm weights near 1, like trained models; everything else small and centred
    const values = Float32Array.from({ length: numel(shape) }, () => (name.includes('norm') ? 1 + rand() * 0.2 : rand()));
    if (dtype(name) === 'f16') {
      const halves = Uint16Array.from(values, f32ToF16);
      tensors.set(name, makeTensor(name, shape, 'f16', new Uint8Array(halves.buffer)));
    } else tensors.set(name, f32Tensor(name, shape, values));
  }
  return { config, tensors, source: { format: 'synthetic', name: `seed ${seed}` } };
}

const baseConfig: ModelConfig = {
  architecture: 'qwen2', hiddenSize: 32, intermediateSize: 40, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8,
  vocabSize: 50, maxPositions: 128, rmsNormEps: 1e-6, ropeTheta: 1e6, ropeStyle: 'half', attentionBias: true,
  tieWordEmbeddings: false, bosTokenId: null, eosTokenId: null,
};

describe('WebGpuRuntime on synthetic models vs CpuRuntime', () => {
  const variants: [string, ModelConfig, (name: string) => 'f32' | 'f16'][] = [
    ['Qwen2-style: qkv bias, half RoPE, GQA, untied lm_head, f16 MLP weights', baseConfig, (n) => (n.includes('mlp') ? 'f16' : 'f32')],
    [
      'tied embeddings, interleaved RoPE, MHA, head_dim 16 (q width 64 != hidden 32)',
      { ...baseConfig, architecture: 'llama', numKvHeads: 4, headDim: 16, ropeStyle: 'interleaved', ropeTheta: 10000,
        attentionBias: false, tieWordEmbeddings: true, vocabSize: 77 },
      () => 'f32',
    ],
  ];
  for (const [name, config, dtype] of variants) for (const kernels of ['gpu', 'cpu'] as const) {
    it(`${name} (${kernels} kernels)`, async () => {
      const model = syntheticModel(config, 42, dtype);
      const gpu = await WebGpuRuntime.create(await getNodeGpuDevice(), model, { kernels });
      const cpu = new CpuRuntime(model);
      try {
        const prompt = Array.from({ length: 21 }, (_, i) => (i * 7 + 3) % config.vocabSize);
        const d = maxAbsDiff(await gpu.forward(prompt), await cpu.forward(prompt));
        expect(d).toBeLessThanOrEqual(1e-4);
        for (const t of [5, 0, config.vocabSize - 1]) {
          expect(maxAbsDiff(await gpu.forward([t], { lastOnly: true }), await cpu.forward([t], { lastOnly: true }))).toBeLessThanOrEqual(1e-4);
        }
      } finally {
        gpu.dispose();
      }
    });
  }
});
