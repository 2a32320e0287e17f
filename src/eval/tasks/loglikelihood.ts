// Single-continuation tasks (LAMBADA): accuracy = the target is the greedy continuation;
// perplexity = exp of the mean negative log-likelihood of the target per item, as lm-evaluation-harness reports it.
import { throwIfAborted } from '../../io/errors';
import { scoreRequests } from '../loglikelihood';
import { mean, stderrOfMean } from '../stats';
import type { LoglikelihoodTask } from '../task-schema';
import { render } from '../template';
import type { TaskRunner } from './context';

export const loglikelihood: TaskRunner<LoglikelihoodTask> = {
  async run(task, docs, items, ctx) {
    const acc: number[] = [], nll: number[] = [];
    for (const [k, index] of items.entries()) {
      throwIfAborted(ctx.signal);
      const doc = docs[index];
      const [r] = await scoreRequests(ctx.runtime, ctx.tokenizer, [
        { context: render(task.doc_to_text, doc), continuation: task.target_delimiter + render(task.doc_to_target, doc) },
      ], ctx.signal);
      acc.push(r.greedy ? 1 : 0);
      nll.push(-r.logprob);
      ctx.onProgress?.({ done: k + 1, total: items.length });
    }
    const metrics: Record<string, { value: number; stderr: number }> = {};
    if (task.metrics.includes('acc')) metrics.acc = { value: mean(acc), stderr: stderrOfMean(acc) };
    if (task.metrics.includes('perplexity')) {
      // delta method, as lm-evaluation-harness: se(exp(m)) ~ exp(m) * se(m)
      const m = mean(nll);
      metrics.perplexity = { value: Math.exp(m), stderr: Math.exp(m) * stderrOfMean(nll) };
    }
    return { metrics, n: items.length, items };
  },
};
