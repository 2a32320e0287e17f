import { expect, it } from 'vitest';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { generate } from '../../src/runtime/generate';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesBin, loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

describeWithShared('CPU reference forward on stories260K', [STORIES.gguf, STORIES.bin, STORIES.tok, STORIES.reference], () => {
  const ref = () => referenceCase('Once upon a time');

  it('matches llama2.c logits at position 0 and at the last prompt position (1e-4)', async () => {
    const rt = new CpuRuntime(await loadStoriesGguf());
    const c = ref();
    const all = await rt.forward(c.prompt_tokens);
    const V = 512;
    const d0 = maxAbsDiff(all.subarray(0, V), c.logits_after_bos_pos0!);
    const dl = maxAbsDiff(all.subarray((c.prompt_tokens.length - 1) * V), c.logits_at_last_prompt_pos!);
    console.log(`CPU vs llama2.c logits: pos0 max|d|=${d0.toExponential(2)}, last=${dl.toExponential(2)}`);
    expect(d0).toBeLessThanOrEqual(1e-4);
    expect(dl).toBeLessThanOrEqual(1e-4);
  });

  it('greedy generation reproduces run.c for both reference prompts', async () => {
    const rt = new CpuRuntime(await loadStoriesGguf());
    for (const prompt of ['Once upon a time', '']) {
      const c = referenceCase(prompt);
      const n = c.steps - c.prompt_tokens.length + 1;
      const out = await generate(rt, c.prompt_tokens, { maxNewTokens: n, stopTokens: [1] });
      expect(out.tokens).toEqual(c.generated_tokens);
    }
  });

  it('GGUF and llama2.c .bin give identical logits', async () => {
    const [g, b] = await Promise.all([loadStoriesGguf(), loadStoriesBin()]);
    expect(b.config.tieWordEmbeddings).toBe(true);
    expect(g.config.tieWordEmbeddings).toBe(false);
    const tokens = ref().prompt_tokens.concat(ref().generated_tokens).slice(0, 64);
    const lg = await new CpuRuntime(g).forward(tokens);
    const lb = await new CpuRuntime(b).forward(tokens);
    expect(maxAbsDiff(lg, lb)).toBe(0);
  });

  it('incremental decoding equals one batched forward', async () => {
    const model = await loadStoriesGguf();
    const tokens = ref().prompt_tokens.concat(ref().generated_tokens).slice(0, 40);
    const batched = await new CpuRuntime(model).forward(tokens);
    const rt = new CpuRuntime(model);
    const first = await rt.forward(tokens.slice(0, 10));
    const rows = [first];
    for (const t of tokens.slice(10)) rows.push(await rt.forward([t]));
    const joined = new Float32Array(batched.length);
    let o = 0;
    for (const r of rows) { joined.set(r, o); o += r.length; }
    expect(maxAbsDiff(joined, batched)).toBeLessThan(1e-5);
  });

  it('refuses out-of-vocabulary ids and context overflow with clear errors', async () => {
    const rt = new CpuRuntime(await loadStoriesGguf(), { maxPositions: 8 });
    await expect(rt.forward([1, 9999])).rejects.toThrow(/outside vocabulary/);
    await expect(rt.forward(new Array(9).fill(1))).rejects.toThrow(/context overflow/);
  });
});
