// The search's RAM estimate (src/search/memory.ts) on stories260K, against numbers worked out by hand from its
// config (hidden 64, intermediate 172, 5 layers, 8 heads, 4 kv heads of 8 dims, vocab 512, 292,800 f32
// parameters), and weights + KV cache against what the CPU runtime really allocates.
import { expect, it } from 'vitest';
import { modelBytes } from '../../src/model/model';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { runtimeMemory, weightBudget } from '../../src/search/memory';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

describeWithShared('runtime memory estimate for stories260K', [STORIES.gguf], () => {
  it('weights as stored + f32 KV cache + the largest activation set, as computed by hand', async () => {
    const m = await loadStoriesGguf();
    const weights = 292_800 * 4; // 1,171,200 B
    expect(modelBytes(m)).toBe(weights);
    // KV: 2 (K, V) x 5 layers x 512 positions x (4 x 8) dims x 4 B = 655,360
    // activations, one token: 4 B x (2 x 64 residual + norm, + max(attention 2 x 64 + 2 x 32 + 512 scores = 704,
    // MLP 3 x 172 = 516, logits 512)) = 4 x 832 = 3,328
    expect(runtimeMemory(m.config, weights, { contextLength: 512 })).toEqual({ weights, kvCache: 655_360, activations: 3_328, total: 1_829_888 });
    // a 512-token prefill: 4 B x (512 x 128 + max(512 x 192 + 512 = 98,816, 512 x 516 = 264,192, 512 x 512 = 262,144)) = 1,318,912
    expect(runtimeMemory(m.config, weights, { contextLength: 512, batch: 512 }).activations).toBe(1_318_912);
    // the runtimes' default: the model's 2,048 positions (4x the KV cache), 256 scores more per row
    expect(runtimeMemory(m.config, 275_392, { contextLength: m.config.maxPositions })).toEqual({ weights: 275_392, kvCache: 2_621_440, activations: 4 * (128 + 192 + 2048), total: 2_906_304 });
    expect(weightBudget(m.config, 1_000_000, { contextLength: 512 })).toBe(1_000_000 - 655_360 - 3_328);
    // what CpuRuntime holds for an f32 model (it keeps every weight as f32, activations are transient)
    const rt = new CpuRuntime(m, { maxPositions: 512 });
    const est = runtimeMemory(m.config, modelBytes(m), { contextLength: 512 });
    expect(rt.memoryBytes).toBe(est.weights + est.kvCache);
  });
});
