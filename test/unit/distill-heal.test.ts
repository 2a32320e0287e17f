// The healing claim on the CPU: stories260K pruned to 50% with Wanda, then healed (distilled toward
// the dense model for 30 updates of 2 x 64 tokens on the recipe's calibration text) recovers at least half
// of the perplexity lost by pruning, on TinyStories valid_a 8 x 512 chunks (llama.cpp protocol, the first
// half of the file; calibration and training windows come from the second half). Sparsity stays 50%.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { perplexity } from '../../src/eval/perplexity';
import { modelParams, type Model } from '../../src/model/model';
import { toFloat32 } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { calibrationFromTokens } from '../../src/passes/calibration';
import { passes } from '../../src/passes/index';
import type { Calibration } from '../../src/passes/pass';
import { isLinearWeight } from '../../src/passes/quant/common';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, REPO, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

describeWithShared('healing stories260K after pruning and quantization', [STORIES.gguf, STORIES.tinystories], () => {
  let dense: Model, tokens: number[], calibration: Calibration;
  const ppl = async (m: Model, chunks = 8) =>
    (await perplexity(new CpuRuntime(m, { maxPositions: 512 }), tokens, { contextLength: 512, maxChunks: chunks, bosId: 1 })).ppl;

  beforeAll(async () => {
    dense = await loadStoriesGguf();
    tokens = createTokenizer(dense.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8'));
    const half = tokens.length >> 1;
    calibration = calibrationFromTokens(tokens.slice(half), 32, 128, 1, 1, `valid_a.txt tokens ${half}+`);
  });

  it('Wanda 50% then heal recovers at least half of the lost perplexity and keeps every pruned zero', async () => {
    const pruned = await passes.wanda.apply(dense, passes.wanda.params.parse({ sparsity: 0.5 }), { calibration });
    const reports: Record<string, unknown>[] = [];
    const progress: number[] = [];
    const recipe = JSON.parse(readFileSync(`${REPO}/static/recipes/heal-wanda-50.json`, 'utf8'));
    const healParams = passes.heal.params.parse(recipe.passes[1].params);
    const healed = await passes.heal.apply(pruned, healParams, {
      calibration, earlier: [dense], report: (e) => reports.push(e), onProgress: (p) => progress.push(p.done),
    });
    const row = { dense: await ppl(dense), pruned: await ppl(pruned), healed: await ppl(healed) };
    const recovered = (row.pruned - row.healed) / (row.pruned - row.dense);
    console.table({ 'ppl, valid_a 8 x 512': row });
    console.log(`recovered ${(100 * recovered).toFixed(1)}% of the perplexity lost by pruning; heal report: ${JSON.stringify(reports[0])}`);
    expect(recovered).toBeGreaterThanOrEqual(0.5);
    expect(progress).toEqual(Array.from({ length: healParams.steps }, (_, i) => i + 1));
    expect(reports[0]).toMatchObject({ pass: 'heal', steps: healParams.steps, teacher: dense.source.name });
    for (const [name, t] of pruned.tensors) {
      if (!isLinearWeight(name)) continue;
      const before = toFloat32(t), after = toFloat32(healed.tensors.get(name)!);
      let zeros = 0, moved = 0;
      for (let i = 0; i < before.length; i++) {
        if (before[i] === 0) expect(after[i]).toBe(0);
        zeros += +(after[i] === 0);
        moved += +(after[i] !== before[i]);
      }
      expect(zeros / after.length, name).toBeCloseTo(0.5, 2);
      expect(moved, name).toBeGreaterThan(0);
    }
  });

  it('in a recipe, heal after int3 RTN trains straight-through: dtypes and size kept, perplexity lower', async () => {
    const recipe = parseRecipe({
      schema: 'lab.recipe/1', name: 'rtn-int3-heal',
      passes: [{ pass: 'rtn', params: { dtype: 'int3_g32' } }, { pass: 'heal', params: { steps: 10 } }],
    });
    const healed = await runRecipe(dense, recipe, { calibration });
    const quantized = await runRecipe(dense, parseRecipe({ ...recipe, passes: [recipe.passes[0]] }), { calibration });
    for (const [name, t] of quantized.model.tensors) {
      const h = healed.model.tensors.get(name)!;
      expect(h.dtype, name).toBe(t.dtype);
      expect(h.data.byteLength, name).toBe(t.data.byteLength);
    }
    const q = 'model.layers.2.self_attn.q_proj.weight';
    expect(healed.model.tensors.get(q)!.dtype).toBe('int3_g32');
    expect(healed.model.tensors.get(q)!.data).not.toEqual(quantized.model.tensors.get(q)!.data);
    const row = { dense: await ppl(dense, 2), int3: await ppl(quantized.model, 2), healed: await ppl(healed.model, 2) };
    console.table({ 'ppl, valid_a 2 x 512': row });
    console.log(`heal report: ${JSON.stringify(healed.report[1].entries[0])}`);
    expect(row.healed).toBeLessThan(row.int3);
    expect(healed.report[1].entries[0]).toMatchObject({ teacher: dense.source.name });
  });

  it('distill after two layer drops learns from the previous step\'s model (4 layers) into the 3-layer student', async () => {
    const recipe = parseRecipe({
      schema: 'lab.recipe/1', name: 'drop-drop-distill',
      passes: [{ pass: 'layers', params: { count: 1 } }, { pass: 'layers', params: { count: 1 } },
        { pass: 'distill', params: { steps: 3, seqLen: 32, batch: 1, loss: { topK: 32, hiddenMse: 1 } } }],
    });
    const small = { ...calibration, sequences: calibration.sequences.slice(0, 4) };
    const run = await runRecipe(dense, recipe, { calibration: small });
    const four = await runRecipe(dense, parseRecipe({ ...recipe, passes: [recipe.passes[0]] }), { calibration: small });
    expect(run.model.config.numLayers).toBe(3);
    const entry = run.report[2].entries[0];
    expect(entry).toMatchObject({ pass: 'distill', steps: 3, teacherParams: modelParams(four.model) });
    expect(modelParams(four.model)).toBeLessThan(modelParams(dense));
  });

  it('LoRA distillation of a pruned model merges its adapters inside the sparsity pattern', async () => {
    const recipe = parseRecipe({
      schema: 'lab.recipe/1', name: 'wanda-lora',
      passes: [{ pass: 'wanda', params: { sparsity: 0.5 } },
        { pass: 'distill', params: { steps: 2, seqLen: 32, batch: 1, lr: 1e-2, lora: { rank: 2 } } }],
    });
    const small = { ...calibration, sequences: calibration.sequences.slice(0, 4) };
    const run = await runRecipe(dense, recipe, { calibration: small });
    const pruned = await runRecipe(dense, parseRecipe({ ...recipe, passes: [recipe.passes[0]] }), { calibration: small });
    expect(run.report[1].entries[0]).toMatchObject({ trainable: { kind: 'lora', rank: 2, maskedTargets: 10 } });
    const q = 'model.layers.3.self_attn.q_proj.weight', o = 'model.layers.3.self_attn.o_proj.weight';
    const before = toFloat32(pruned.model.tensors.get(q)!), after = toFloat32(run.model.tensors.get(q)!);
    expect(after).not.toEqual(before);
    for (let i = 0; i < before.length; i++) if (before[i] === 0) expect(after[i]).toBe(0);
    expect(toFloat32(run.model.tensors.get(o)!)).toEqual(toFloat32(pruned.model.tensors.get(o)!));
  });

  it('a heal with no earlier step and no teacher reference names the problem', async () => {
    const recipe = parseRecipe({ schema: 'lab.recipe/1', name: 'heal-alone', passes: [{ pass: 'heal', params: {} }] });
    await expect(runRecipe(dense, recipe, { calibration })).rejects.toThrow(/heal: teacher "base" needs an earlier step in the recipe/);
    expect(() => parseRecipe({ schema: 'lab.recipe/1', name: 'x', passes: [{ pass: 'heal', params: { steps: 0 } }] })).toThrow(/passes.0 \(heal\): steps/);
  });
});
