// The market's runtime memory (src/model/runtime-memory.ts) on stories260K, against numbers worked out by hand
// from its config (hidden 64, intermediate 172, 5 layers, 8 heads, 4 kv heads of 8 dims, vocab 512, 2,048
// positions, 292,800 f32 parameters) and from the bytes of its q4_0 GGUF; weights + KV cache against what the
// CPU runtime really allocates; and the search's weight bound, which is the same definition turned around.
import { expect, it } from 'vitest';
import { exportGguf } from '../../src/io/gguf-export';
import { loadModel } from '../../src/io/load';
import { bytesSource } from '../../src/io/source';
import { modelBytes } from '../../src/model/model';
import { marketRuntimeBytes, runtimeMemory, weightBudget } from '../../src/model/runtime-memory';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { weightBound } from '../../src/search/memory';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

describeWithShared('runtime memory of stories260K', [STORIES.gguf], () => {
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
    expect(weightBound(m.config, { maxRamBytes: 1_000_000, contextLength: 512 })).toBe(341_312);
    expect(weightBound(m.config, { maxRamBytes: 1_000_000, maxBytes: 300_000, contextLength: 512 })).toBe(300_000);
    // what CpuRuntime holds for an f32 model (it keeps every weight as f32, activations are transient)
    const rt = new CpuRuntime(m, { maxPositions: 512 });
    const est = runtimeMemory(m.config, modelBytes(m), { contextLength: 512 });
    expect(rt.memoryBytes).toBe(est.weights + est.kvCache);
  });

  it('the market figure: the f32 and the q4_0 GGUF as the validator loads them, at the default and a given context', async () => {
    const f32 = await loadStoriesGguf();
    // the f32 file at its 2,048 positions: 1,171,200 + 2,621,440 + 4 x (128 + 192 + 2,048) = 3,802,112
    expect(marketRuntimeBytes(f32)).toBe(3_802_112);
    expect(marketRuntimeBytes(f32, 512)).toBe(1_829_888);
    // q4_0 as `lab quant --method rtn --dtype q4_0` makes it: embeddings and q/k/v/o/gate/up in q4_0 blocks (18 B per 32), lm_head q8_0
    // (34 B per 32), down_proj f16 (172 is no multiple of 32), norms f32:
    // 18,432 + 34,816 + 5 x (2,304 + 1,152 + 1,152 + 2,304 + 6,192 + 6,192 + 22,016 + 512) + 256 = 262,624
    const q = await runRecipe(f32, parseRecipe({ schema: 'lab.recipe/1', name: 'q4', passes: [{ pass: 'rtn', params: { dtype: 'q4_0', embedding: 'q4_0', lmHead: 'q8_0' } }] }));
    const bytes = exportGguf(q.model);
    const q4 = await loadModel(new Map([['q4.gguf', bytesSource(bytes, 'q4.gguf')]]));
    expect(modelBytes(q4)).toBe(262_624);
    expect(marketRuntimeBytes(q4)).toBe(262_624 + 2_621_440 + 9_472); // 2,893,536
    expect(marketRuntimeBytes(q4, 512)).toBe(262_624 + 655_360 + 3_328); // 921,312
    // the miner's in-memory model and the artifact the validator loads agree to the byte
    expect(marketRuntimeBytes(q.model, 512)).toBe(marketRuntimeBytes(q4, 512));
  });
});
