// loglikelihood_rolling over a whole text with llama.cpp's perplexity protocol (see ../perplexity.ts).
// Items are the text's chunks; --limit caps how many, the seed does not pick them (order matters for text).
import { perplexity } from '../perplexity';
import type { PerplexityTask } from '../task-schema';
import type { TaskRunner } from './context';

export const rolling: TaskRunner<PerplexityTask> = {
  async run(task, docs, _items, ctx) {
    const text = docs.map((d) => String(d.text)).join('\n\n').replace(/\r\n/g, '\n');
    const tokens = ctx.tokenizer.encode(text);
    const r = await perplexity(ctx.runtime, tokens, {
      contextLength: Math.min(task.context_length, ctx.runtime.maxPositions),
      maxChunks: ctx.limit ?? task.max_chunks,
      bosId: ctx.tokenizer.bosId,
      signal: ctx.signal,
      onProgress: ({ done, total }) => ctx.onProgress?.({ done, total }),
    });
    return {
      metrics: { perplexity: { value: r.ppl, stderr: r.stderr }, nll: { value: r.nll, stderr: r.stderr / r.ppl } },
      n: r.chunks,
      items: Array.from({ length: r.chunks }, (_, i) => i),
    };
  },
};
