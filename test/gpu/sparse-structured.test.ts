// Structurally pruned stories260K (query heads evenly per group; KV groups, FFN channels and layers together
// by the named recipe) on WebGpuRuntime: each smaller config loads, and its logits match the dense model
// with the same units masked, run on the CPU oracle (1e-3, the WebGPU-vs-CPU tolerance of forward.test.ts;
// on the CPU the two are equal bit for bit, test/unit/prune-structured.test.ts).
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { getNodeGpuDevice } from '../../node/gpu';
import type { Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { calibrationFromTokens } from '../../src/passes/calibration';
import type { Calibration } from '../../src/passes/pass';
import { maskModel, type Structure } from '../../src/passes/prune/structured';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { WebGpuRuntime } from '../../src/runtime/webgpu';
import { describeWithShared, REPO, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff } from '../stories';

describeWithShared('structurally pruned stories260K on WebGpuRuntime', [STORIES.gguf, STORIES.tinystories], () => {
  let base: Model, calibration: Calibration;
  beforeAll(async () => {
    base = await loadStoriesGguf();
    const text = readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(200_000, 230_000);
    calibration = calibrationFromTokens(createTokenizer(base.tokenizer!).encode(text), 8, 128, 1, base.config.bosTokenId, 'valid_a.txt');
  });

  it('query heads, and the combined recipe (KV groups, channels, layers): WebGPU logits of the smaller model = CPU logits of the masked dense one', async () => {
    const device = await getNodeGpuDevice();
    const prompt = [1, 403, 407, 261, 378, 410, 328, 271, 263, 309, 357, 345, 290, 261, 292, 271];
    const steps = {
      'heads query 0.5': [{ pass: 'heads', params: { sparsity: 0.5, unit: 'query' } }],
      'recipe structured-heads-ffn-layers': JSON.parse(readFileSync(`${REPO}/static/recipes/structured-heads-ffn-layers.json`, 'utf8')).passes,
    };
    for (const [label, passes] of Object.entries(steps)) {
      const run = await runRecipe(base, parseRecipe({ schema: 'lab.recipe/1', name: 'structured', passes }), { calibration });
      const structure: Structure = {};
      for (const e of run.report.map((r) => r.entries[0])) {
        if (e.keptHeads) Object.assign(structure, { heads: e.keptHeads, kvHeads: e.keptKvHeads });
        if (e.keptChannels) structure.channels = e.keptChannels as number[][];
        if (e.pass === 'layers') structure.layers = e.kept as number[];
      }
      const gpu = await WebGpuRuntime.create(device, run.model, { maxPositions: 64 });
      const cpu = new CpuRuntime(maskModel(base, structure), { maxPositions: 64 });
      try {
        let d = maxAbsDiff(await gpu.forward(prompt), await cpu.forward(prompt));
        for (const t of [5, 300]) d = Math.max(d, maxAbsDiff(await gpu.forward([t], { lastOnly: true }), await cpu.forward([t], { lastOnly: true })));
        const c = run.model.config;
        console.log(`${label}: heads ${c.numHeads}/${c.numKvHeads} kv, ffn ${c.intermediateSize}, layers ${c.numLayers}; WebGPU vs masked dense (CPU) max|d| ${d.toExponential(2)}`);
        expect(d, label).toBeLessThanOrEqual(1e-3);
      } finally {
        gpu.dispose();
      }
    }
  });
});
