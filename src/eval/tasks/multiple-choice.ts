// Multiple choice as lm-evaluation-harness scores it: each choice is a continuation of the same context;
// acc takes the highest log-likelihood, acc_norm the highest per character of the choice.
import { throwIfAborted } from '../../io/errors';
import type { Doc } from '../data-formats';
import { sampleItems } from '../item-sampling';
import { scoreRequests } from '../loglikelihood';
import { mean, stderrOfMean } from '../stats';
import type { MultipleChoiceTask } from '../task-schema';
import { lookup, render } from '../template';
import type { TaskRunner } from './context';

export function choicesOf(task: MultipleChoiceTask, doc: Doc): string[] {
  if (Array.isArray(task.doc_to_choice)) return task.doc_to_choice.map((t) => render(t, doc));
  const v = lookup(doc, task.doc_to_choice);
  if (!Array.isArray(v) || v.length < 2) throw new Error(`field "${task.doc_to_choice}" is not a list of choices`);
  return v.map(String);
}

export function goldOf(task: MultipleChoiceTask, doc: Doc, nChoices: number): number {
  const v = lookup(doc, task.doc_to_target);
  const gold = typeof v === 'string' && /^[A-Z]$/.test(v.trim()) ? v.trim().charCodeAt(0) - 65 : Number(v);
  if (!(Number.isInteger(gold) && gold >= 0 && gold < nChoices)) throw new Error(`gold "${String(v)}" is not one of ${nChoices} choices`);
  return gold;
}

/** Few-shot examples come from the same data (other items, same group), chosen by the seed. */
async function fewshotPrefix(task: MultipleChoiceTask, docs: Doc[], index: number, seed: string) {
  const doc = docs[index];
  let prefix = task.description_template ? render(task.description_template, doc) : '';
  if (task.num_fewshot === 0) return prefix;
  const group = task.fewshot_group;
  const pool = docs.map((_, i) => i).filter((i) => i !== index && (!group || lookup(docs[i], group) === lookup(doc, group)));
  const picks = await sampleItems(pool.length, task.num_fewshot, `${seed}/fewshot/${index}`);
  for (const p of picks) {
    const ex = docs[pool[p]];
    const choices = choicesOf(task, ex);
    prefix += render(task.doc_to_text, ex) + task.target_delimiter + choices[goldOf(task, ex, choices.length)] + task.fewshot_delimiter;
  }
  return prefix;
}

export const multipleChoice: TaskRunner<MultipleChoiceTask> = {
  async run(task, docs, items, ctx) {
    const acc: number[] = [], accNorm: number[] = [];
    for (const [k, index] of items.entries()) {
      throwIfAborted(ctx.signal);
      const doc = docs[index];
      const choices = choicesOf(task, doc);
      const gold = goldOf(task, doc, choices.length);
      const context = (await fewshotPrefix(task, docs, index, ctx.seed)) + render(task.doc_to_text, doc);
      const scores = await scoreRequests(
        ctx.runtime, ctx.tokenizer, choices.map((c) => ({ context, continuation: task.target_delimiter + c })), ctx.signal,
      );
      const best = (f: (i: number) => number) => choices.reduce((b, _, i) => (f(i) > f(b) ? i : b), 0);
      acc.push(best((i) => scores[i].logprob) === gold ? 1 : 0);
      accNorm.push(best((i) => scores[i].logprob / choices[i].length) === gold ? 1 : 0);
      ctx.onProgress?.({ done: k + 1, total: items.length });
    }
    const metrics: Record<string, { value: number; stderr: number }> = {};
    if (task.metrics.includes('acc')) metrics.acc = { value: mean(acc), stderr: stderrOfMean(acc) };
    if (task.metrics.includes('acc_norm')) metrics.acc_norm = { value: mean(accNorm), stderr: stderrOfMean(accNorm) };
    return { metrics, n: items.length, items };
  },
};
