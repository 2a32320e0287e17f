// generate_until: greedy continuation of the prompt, cut at the first stop string; exact_match compares
// the trimmed answer with the trimmed target. Leading whitespace of the generation is dropped before the
// stop strings apply, so " " can end a one-word answer (LAMBADA) without ending it before it starts.
import { throwIfAborted } from '../../io/errors';
import { defaultStopTokens, generate } from '../../runtime/generate';
import { mean, stderrOfMean } from '../stats';
import type { GenerateUntilTask } from '../task-schema';
import { render } from '../template';
import type { TaskRunner } from './context';

export function cutAtStop(text: string, until: readonly string[]): { text: string; stopped: boolean } {
  let cut = text.length;
  for (const u of until) {
    const i = text.indexOf(u);
    if (i >= 0 && i < cut) cut = i;
  }
  return { text: text.slice(0, cut), stopped: cut < text.length };
}

function answerOf(tok: { decode(ids: readonly number[]): string }, prompt: number[], gen: readonly number[], until: readonly string[]) {
  const text = tok.decode([...prompt, ...gen]).slice(tok.decode(prompt).length).trimStart();
  return cutAtStop(text, until);
}

export const generateUntil: TaskRunner<GenerateUntilTask> = {
  async run(task, docs, items, ctx) {
    const em: number[] = [];
    const tok = ctx.tokenizer;
    for (const [k, index] of items.entries()) {
      throwIfAborted(ctx.signal);
      const doc = docs[index];
      const prompt = tok.encode(render(task.doc_to_text, doc));
      const budget = Math.min(task.max_gen_toks, ctx.runtime.maxPositions - prompt.length);
      if (budget < 1) throw new Error(`item ${index}: prompt of ${prompt.length} tokens leaves no room to generate`);
      const out = await generate(ctx.runtime, prompt, {
        maxNewTokens: budget,
        stopTokens: defaultStopTokens(tok),
        signal: ctx.signal,
        shouldStop: (gen) => answerOf(tok, prompt, gen, task.until).stopped,
      });
      const answer = answerOf(tok, prompt, out.tokens, task.until).text;
      em.push(answer.trim() === render(task.doc_to_target, doc).trim() ? 1 : 0);
      ctx.onProgress?.({ done: k + 1, total: items.length });
    }
    return { metrics: { exact_match: { value: mean(em), stderr: stderrOfMean(em) } }, n: items.length, items };
  },
};
