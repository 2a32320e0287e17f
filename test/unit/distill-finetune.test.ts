// The fine-tuning claim: next-token fine-tuning of stories260K on a WikiText-2 slice lowers
// WikiText perplexity and raises TinyStories perplexity (the two variants that merging combines).
// Trained on the first half of a 200 kB slice of wiki.test.raw, measured on its second half (held out).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { perplexity } from '../../src/eval/perplexity';
import type { Model } from '../../src/model/model';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { fineTune } from '../../src/passes/distill/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

const WIKI = 'data/wikitext2/wiki.test.raw';
const CTX = 256, CHUNKS = 2;

describeWithShared('fine-tuning stories260K on WikiText-2', [STORIES.gguf, STORIES.tinystories, WIKI], () => {
  it('lowers held-out WikiText perplexity and raises TinyStories perplexity', async () => {
    const base = await loadStoriesGguf();
    const tok = createTokenizer(base.tokenizer!);
    const wiki = tok.encode(readFileSync(sharedPath(WIKI), 'utf8').slice(0, 200_000));
    const stories = tok.encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 20_000));
    const half = wiki.length >> 1;
    const ppl = async (m: Model, tokens: number[]) =>
      (await perplexity(new CpuRuntime(m, { maxPositions: CTX }), tokens, { contextLength: CTX, maxChunks: CHUNKS, bosId: 1 })).ppl;
    const losses: number[] = [];
    const tuned = await fineTune(base, wiki.slice(0, half), {
      steps: 12, seqLen: 64, batch: 2, lr: 3e-3, warmup: 2, seed: 1, onProgress: (s) => losses.push(s.loss),
    });
    const rows = {
      base: { wikitext: await ppl(base, wiki.slice(half)), tinystories: await ppl(base, stories) },
      'fine-tuned (12 steps x 2 x 64 tokens)': { wikitext: await ppl(tuned, wiki.slice(half)), tinystories: await ppl(tuned, stories) },
    };
    console.table(rows);
    console.log(`train loss by step: ${losses.map((l) => l.toFixed(2)).join(' ')}`);
    const [b, t] = Object.values(rows);
    expect(t.wikitext).toBeLessThan(0.8 * b.wikitext);
    expect(t.tinystories).toBeGreaterThan(1.5 * b.tinystories);
  });
});
