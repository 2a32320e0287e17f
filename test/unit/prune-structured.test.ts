// Structured pruning of stories260K (5 layers, 8 heads over 4 KV heads of dim 8, FFN 172): heads (whole KV
// groups, or query heads evenly per group), FFN channels and whole layers. Each result is a smaller standard
// config with fewer parameters; its CPU logits equal, bit for bit, those of the dense model with the same
// units masked (o_proj / down_proj columns zeroed, removed layers' outputs zeroed); and it survives every
// exporter: GGUF and the HF folder load back into our runtime with the same logits, and the ONNX decoder
// runs in onnxruntime-node (the kernels of onnxruntime-web's wasm provider) to within float rounding.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, expect, it } from 'vitest';
import { exportGguf } from '../../src/io/gguf-export';
import { exportHfFolder, fileBytes } from '../../src/io/hf-export';
import { loadModel } from '../../src/io/load';
import { exportOnnxVariant } from '../../src/io/onnx/export';
import { OrtDecoder, type OrtModule } from '../../src/io/onnx/ort-decoder';
import { bytesSource } from '../../src/io/source';
import { parameterCount } from '../../src/model/architectures';
import { modelParams, type Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { calibrationFromTokens } from '../../src/passes/calibration';
import { passes } from '../../src/passes/index';
import type { Calibration } from '../../src/passes/pass';
import { headStructure } from '../../src/passes/prune/heads';
import { maskModel, shrinkModel, type Structure } from '../../src/passes/prune/structured';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, REPO, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

const logits = (m: Model, tokens: number[]) => new CpuRuntime(m, { maxPositions: 64 }).forwardSync(tokens);

/** Run a structured pass, returning the pruned model and what it reported. */
async function prune(base: Model, pass: 'heads' | 'channels' | 'layers', params: Record<string, unknown>, calibration: Calibration) {
  const entries: Record<string, unknown>[] = [];
  const model = await passes[pass].apply(base, passes[pass].params.parse(params) as never, { calibration, report: (e) => entries.push(e) });
  return { model, report: entries[0] };
}

describeWithShared('structured pruning of stories260K', [STORIES.gguf, STORIES.tinystories, STORIES.reference], () => {
  let base: Model, calibration: Calibration, tokens: number[];
  beforeAll(async () => {
    base = await loadStoriesGguf();
    const text = readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(200_000, 260_000);
    calibration = calibrationFromTokens(createTokenizer(base.tokenizer!).encode(text), 16, 128, 1, base.config.bosTokenId, 'valid_a.txt chars 200k-260k');
    const c = referenceCase('Once upon a time');
    tokens = [...c.prompt_tokens, ...c.generated_tokens].slice(0, 32);
  });

  it('each method gives a smaller standard config whose logits equal the masked dense model bit for bit', async () => {
    const cases = [
      { pass: 'heads', params: { sparsity: 0.25, unit: 'kv-group' }, config: { numHeads: 6, numKvHeads: 3 } },
      { pass: 'heads', params: { sparsity: 0.5, unit: 'query' }, config: { numHeads: 4, numKvHeads: 4 } },
      { pass: 'channels', params: { sparsity: 0.5 }, config: { intermediateSize: 86 } },
      { pass: 'channels', params: { sparsity: 0.3, multipleOf: 32 }, config: { intermediateSize: 96 } },
      { pass: 'layers', params: { count: 2 }, config: { numLayers: 3 } },
    ] as const;
    for (const k of cases) {
      const { model, report } = await prune(base, k.pass, k.params, calibration);
      const label = `${k.pass} ${JSON.stringify(k.params)}`;
      expect(model.config, label).toMatchObject({ ...k.config, headDim: base.config.headDim, hiddenSize: base.config.hiddenSize });
      expect(modelParams(model), label).toBe(parameterCount(model.config));
      expect(report.paramsAfter).toBe(modelParams(model));
      const structure: Structure = k.pass === 'heads' ? { heads: report.keptHeads as number[][], kvHeads: report.keptKvHeads as number[][] | undefined }
        : k.pass === 'channels' ? { channels: report.keptChannels as number[][] }
        : { layers: report.kept as number[] };
      expect(logits(model, tokens), label).toEqual(logits(maskModel(base, structure), tokens));
      console.log(`${label}: ${modelParams(base)} -> ${modelParams(model)} params (${((1 - modelParams(model) / modelParams(base)) * 100).toFixed(1)}% fewer)`);
    }
  });

  it('importance matters: keeping the highest-scored units beats keeping the lowest-scored (NLL on held-out text)', async () => {
    const text = readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 20_000);
    const held = createTokenizer(base.tokenizer!).encode(text);
    /** Mean next-token NLL over 4 windows of 64 tokens, BOS first. */
    const nll = (m: Model) => {
      let s = 0, n = 0;
      for (let w = 0; w < 4; w++) {
        const seq = held.slice(w * 64, (w + 1) * 64);
        seq[0] = base.config.bosTokenId!;
        const out = logits(m, seq), V = m.config.vocabSize;
        for (let j = 0; j < seq.length - 1; j++) {
          let max = -Infinity, z = 0;
          for (let i = 0; i < V; i++) max = Math.max(max, out[j * V + i]);
          for (let i = 0; i < V; i++) z += Math.exp(out[j * V + i] - max);
          s += max + Math.log(z) - out[j * V + seq[j + 1]];
          n++;
        }
      }
      return s / n;
    };
    const complement = (kept: number[], total: number, count = kept.length) => Array.from({ length: total }, (_, i) => i).filter((i) => !kept.includes(i)).slice(0, count);
    const lines: string[] = [`dense: NLL ${nll(base).toFixed(4)}`];
    const compare = (label: string, best: Model, worst: Model) => {
      const [b, w] = [nll(best), nll(worst)];
      lines.push(`${label}: NLL keeping the highest-scored ${b.toFixed(4)}, the lowest-scored ${w.toFixed(4)}`);
      expect(b, label).toBeLessThan(w);
    };
    const h = await prune(base, 'heads', { sparsity: 0.5, unit: 'query' }, calibration);
    const worstHeads = headStructure(8, 4, (h.report.keptHeads as number[][]).map((k) => Array.from({ length: 8 }, (_, i) => (k.includes(i) ? 0 : 1))), [], { sparsity: 0.5, unit: 'query' });
    compare('heads, half of each group', h.model, shrinkModel(base, worstHeads));
    const g = await prune(base, 'heads', { sparsity: 0.5, unit: 'kv-group' }, calibration);
    const worstGroups = headStructure(8, 4, [], (g.report.keptKvHeads as number[][]).map((k) => Array.from({ length: 4 }, (_, i) => (k.includes(i) ? 0 : 1))), { sparsity: 0.5, unit: 'kv-group' });
    compare('heads, half of the kv groups', g.model, shrinkModel(base, worstGroups));
    const c = await prune(base, 'channels', { sparsity: 0.5 }, calibration);
    compare('channels, half', c.model, shrinkModel(base, { channels: (c.report.keptChannels as number[][]).map((k) => complement(k, 172)) }));
    const l = await prune(base, 'layers', { count: 2 }, calibration);
    console.log(`block influence per layer: ${(l.report.blockInfluence as number[]).map((x) => x.toFixed(4)).join(', ')}`);
    const bi = l.report.blockInfluence as number[];
    const lowest = [0, 1, 2, 3, 4].sort((a, b) => bi[a] - bi[b]).slice(0, 3).sort();
    compare('layers, 2 of 5', l.model, shrinkModel(base, { layers: lowest }));
    console.log(lines.join('\n'));
  });

  it('the structured recipe shrinks every dimension, and GGUF, HF safetensors and ONNX carry the smaller model', async () => {
    const recipe = parseRecipe(JSON.parse(readFileSync(`${REPO}/static/recipes/structured-heads-ffn-layers.json`, 'utf8')), 'structured');
    const run = await runRecipe(base, recipe, { calibration });
    const m = run.model;
    expect(m.config).toMatchObject({ numHeads: 6, numKvHeads: 3, intermediateSize: 129, numLayers: 4, headDim: 8 });
    expect(run.report.map((r) => r.pass)).toEqual(['heads', 'channels', 'layers']);
    // the same units masked in the dense model: heads and channels by original index, then the kept layers
    const [h, ch, ly] = run.report.map((r) => r.entries[0]);
    const keptLayers = ly.kept as number[];
    const masked = maskModel(base, { heads: h.keptHeads as number[][], kvHeads: h.keptKvHeads as number[][], channels: ch.keptChannels as number[][], layers: keptLayers });
    const want = logits(m, tokens);
    expect(want).toEqual(logits(masked, tokens));

    const sizes: string[] = [];
    const ggufBase = exportGguf(base), gguf = exportGguf(m);
    const fromGguf = await loadModel(new Map([['pruned.gguf', bytesSource(gguf, 'pruned.gguf')]]));
    expect(fromGguf.config).toMatchObject({ numHeads: 6, numKvHeads: 3, intermediateSize: 129, numLayers: 4 });
    expect(logits(fromGguf, tokens)).toEqual(want);
    sizes.push(`GGUF ${ggufBase.byteLength} -> ${gguf.byteLength}`);
    expect(gguf.byteLength).toBeLessThan(ggufBase.byteLength * 0.8);

    const hf = exportHfFolder(m), hfBase = exportHfFolder(base);
    const st = (files: typeof hf) => files.find((f) => f.path === 'model.safetensors')!.bytes;
    const fromHf = await loadModel(new Map(hf.map((f) => [f.path, bytesSource(fileBytes(f), f.path)])));
    expect(fromHf.config).toMatchObject({ numHeads: 6, numKvHeads: 3, intermediateSize: 129, numLayers: 4, headDim: 8 });
    const hfConfig = JSON.parse(new TextDecoder().decode(fileBytes(hf.find((f) => f.path === 'config.json')!)));
    expect(hfConfig).toMatchObject({ num_attention_heads: 6, num_key_value_heads: 3, intermediate_size: 129, num_hidden_layers: 4, head_dim: 8 });
    expect(maxAbsDiff(logits(fromHf, tokens), want)).toBeLessThan(1e-5); // q/k rows permuted to rotate_half: same math, other rounding
    sizes.push(`safetensors ${st(hfBase)} -> ${st(hf)}`);
    expect(st(hf)).toBeLessThan(st(hfBase) * 0.8);

    const onnx = exportOnnxVariant(m, 'fp32'), onnxBase = exportOnnxVariant(base, 'fp32');
    const dec = await OrtDecoder.create(ort as unknown as OrtModule, onnx.files[0].parts[0], m.config, { executionProvider: 'cpu' });
    const parts = [await dec.forward(tokens.slice(0, 16))];
    for (let i = 16; i < tokens.length; i++) parts.push(await dec.forward([tokens[i]]));
    dec.dispose();
    const theirs = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((at, p) => (theirs.set(p, at), at + p.length), 0);
    const diff = maxAbsDiff(theirs, want);
    sizes.push(`ONNX fp32 ${onnxBase.files[0].bytes} -> ${onnx.files[0].bytes} (onnxruntime-node vs our CPU: ${diff.toExponential(2)})`);
    expect(diff).toBeLessThan(1e-4);
    expect(onnx.files[0].bytes).toBeLessThan(onnxBase.files[0].bytes * 0.8);
    console.log(`structured recipe: ${modelParams(base)} -> ${modelParams(m)} params; ${sizes.join('; ')}`);
  });

  it('bad requests fail with a clear error', async () => {
    await expect(prune(base, 'heads', { sparsity: 1, unit: 'kv-group' }, calibration)).rejects.toThrow(/would remove all of them/);
    await expect(prune(base, 'layers', { count: 5 }, calibration)).rejects.toThrow(/leaves none/);
    await expect(passes.channels.apply(base, passes.channels.params.parse({}), {})).rejects.toThrow(/needs calibration data/);
    expect(() => shrinkModel(base, { channels: [[0, 1], [0, 1], [0, 1], [0, 1], [0]] })).toThrow(/every layer must keep the same number/);
    expect(() => shrinkModel(base, { heads: Array(5).fill([0, 1, 2]), kvHeads: Array(5).fill([0, 2, 3]) })).toThrow(/does not belong to kept kv head/);
    // kept KV heads alone keep their whole groups
    expect(shrinkModel(base, { kvHeads: Array(5).fill([1, 3]) }).config).toMatchObject({ numHeads: 4, numKvHeads: 2 });
  });
});
