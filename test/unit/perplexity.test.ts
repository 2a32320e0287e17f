import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { negLogLikelihood } from '../../src/eval/logits';
import { perplexity } from '../../src/eval/perplexity';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

it('negLogLikelihood is -log softmax(target), stable for large logits', () => {
  const logits = new Float32Array([1000, 1001, 999]);
  const z = Math.exp(-1) + 1 + Math.exp(-2);
  expect(negLogLikelihood(logits, 0, 3, 1)).toBeCloseTo(Math.log(z), 12);
  expect(negLogLikelihood(logits, 0, 3, 2)).toBeCloseTo(Math.log(z) + 2, 12);
});

describeWithShared('perplexity, llama.cpp protocol, CPU reference', [STORIES.gguf, STORIES.tinystories], () => {
  it('scores the second half of each 512-token chunk after a BOS and reports ppl +/- stderr', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    const text = readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 40_000);
    const tokens = tok.encode(text);
    expect(tokens[0]).toBe(1);
    const rt = new CpuRuntime(model, { maxPositions: 512 });
    const progress: number[] = [];
    const r = await perplexity(rt, tokens, { contextLength: 512, maxChunks: 4, bosId: 1, onProgress: (p) => progress.push(p.done) });
    console.log(`stories260K TinyStories valid_a[0:40000] CPU: ppl ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(4)} over ${r.tokensScored} tokens`);
    expect(r.chunks).toBe(4);
    expect(r.tokensScored).toBe(4 * 255);
    expect(progress).toEqual([1, 2, 3, 4]);
    // independent recomputation: every chunk from scratch, BOS first, second half scored
    let sum = 0;
    for (let c = 0; c < 4; c++) {
      rt.reset();
      const chunk = tokens.slice(c * 512, (c + 1) * 512);
      chunk[0] = 1;
      const logits = await rt.forward(chunk);
      for (let j = 256; j < 511; j++) sum += negLogLikelihood(logits, j * 512, 512, chunk[j + 1]);
    }
    expect(r.nll).toBeCloseTo(sum / 1020, 10);
    expect(r.ppl).toBeCloseTo(Math.exp(sum / 1020), 10);
    expect(r.ppl).toBeGreaterThan(2);
    expect(r.ppl).toBeLessThan(8);
    expect(r.stderr).toBeGreaterThan(0);
    expect(r.stderr).toBeLessThan(r.ppl * 0.2);
  });

  it('refuses text shorter than one chunk and contexts beyond the model', async () => {
    const rt = new CpuRuntime(await loadStoriesGguf(), { maxPositions: 512 });
    await expect(perplexity(rt, [1, 2, 3], { bosId: 1 })).rejects.toThrow(/fewer than one chunk/);
    await expect(perplexity(rt, new Array(5000).fill(5), { bosId: 1, contextLength: 4096 })).rejects.toThrow(/exceeds/);
  });
});
