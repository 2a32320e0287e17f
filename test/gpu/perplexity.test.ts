import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { getNodeGpuDevice } from '../../node/gpu';
import { perplexity } from '../../src/eval/perplexity';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { WebGpuRuntime } from '../../src/runtime/webgpu';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

describeWithShared('perplexity on WebGPU agrees with the CPU reference', [STORIES.gguf, STORIES.tinystories], () => {
  it('stories260K on TinyStories valid_a, 8 chunks of 512: relative difference <= 1e-4', async () => {
    const model = await loadStoriesGguf();
    const tokens = createTokenizer(model.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 60_000));
    const opts = { contextLength: 512, maxChunks: 8, bosId: model.config.bosTokenId };
    const cpu = await perplexity(new CpuRuntime(model, { maxPositions: 512 }), tokens, opts);
    const gpuRt = await WebGpuRuntime.create(await getNodeGpuDevice(), model, { maxPositions: 512 });
    const gpu = await perplexity(gpuRt, tokens, opts);
    gpuRt.dispose();
    const rel = Math.abs(gpu.ppl - cpu.ppl) / cpu.ppl;
    console.log(
      `stories260K TinyStories valid_a (8 x 512, ${cpu.tokensScored} tokens scored): ` +
      `CPU ppl ${cpu.ppl.toFixed(6)} +/- ${cpu.stderr.toFixed(5)}, WebGPU ppl ${gpu.ppl.toFixed(6)} +/- ${gpu.stderr.toFixed(5)}, rel diff ${rel.toExponential(2)}`,
    );
    expect(gpu.tokensScored).toBe(cpu.tokensScored);
    expect(rel).toBeLessThanOrEqual(1e-4);
  });
});
