// generate_until: greedy continuation of the prompt, cut at the first stop string, then scored:
// - exact_match compares the trimmed answer with the trimmed target. Leading whitespace of the generation
//   is dropped before the stop strings apply (trim_start), so " " can end a one-word answer (LAMBADA)
//   without ending it before it starts.
// - pass@1 (greedy, one sample) runs doc_to_program with the generation as {{completion}} in the host's
//   sandboxed CodeRunner; an item passes when the program runs to the end within timeout_ms.
// A prompt longer than the window loses tokens on the left (BOS kept) so max_gen_toks still fit, as
// lm-evaluation-harness does.
import { throwIfAborted } from '../../io/errors';
import { defaultStopTokens, generate } from '../../runtime/generate';
import type { CodeRunner } from '../code/runner';
import type { Doc } from '../data-formats';
import { mean, stderrOfMean } from '../stats';
import type { GenerateUntilTask } from '../task-schema';
import { render } from '../template';
import type { MetricValue, TaskContext, TaskOutcome, TaskRunner } from './context';

type Metric = GenerateUntilTask['metrics'][number];

export function cutAtStop(text: string, until: readonly string[]): { text: string; stopped: boolean } {
  let cut = text.length;
  for (const u of until) {
    const i = text.indexOf(u);
    if (i >= 0 && i < cut) cut = i;
  }
  return { text: text.slice(0, cut), stopped: cut < text.length };
}

function answerOf(tok: { decode(ids: readonly number[]): string }, prompt: number[], gen: readonly number[], task: GenerateUntilTask) {
  const text = tok.decode([...prompt, ...gen]).slice(tok.decode(prompt).length);
  return cutAtStop(task.trim_start ? text.trimStart() : text, task.until);
}

/** The prompt cut on the left (keeping a leading BOS) so that `room` positions stay free. */
function fitPrompt(prompt: number[], maxPositions: number, room: number, bosId: number | null): number[] {
  const keep = maxPositions - room;
  if (prompt.length <= keep) return prompt;
  return prompt[0] === bosId ? [prompt[0], ...prompt.slice(prompt.length - keep + 1)] : prompt.slice(prompt.length - keep);
}

/** The Python program that tests one generation (pass@1): doc_to_program with {{completion}} filled in. */
export function programOf(task: GenerateUntilTask, doc: Doc, completion: string): string {
  if (task.doc_to_program === undefined) throw new Error(`task ${task.id}: pass@1 needs doc_to_program`);
  return render(task.doc_to_program, { ...doc, completion });
}

function needsRunner(task: GenerateUntilTask, runner: CodeRunner | undefined): void {
  if (task.metrics.includes('pass@1') && !runner) {
    throw new Error(
      `task ${task.id}: pass@1 executes generated code and needs a sandboxed code runner from the host ` +
        '(Node: PythonSandbox from node/python-sandbox.ts; browser: createBrowserPythonRunner from src/eval/code/browser-runner.ts)',
    );
  }
}

async function scoreItem(task: GenerateUntilTask, doc: Doc, answer: string, runner: CodeRunner | undefined): Promise<Record<Metric, number>> {
  const out = {} as Record<Metric, number>;
  for (const m of task.metrics) {
    if (m === 'exact_match') out[m] = answer.trim() === render(task.doc_to_target!, doc).trim() ? 1 : 0;
    else out[m] = (await runner!.run(programOf(task, doc, answer), { timeoutMs: task.timeout_ms })).passed ? 1 : 0;
  }
  return out;
}

function aggregate(task: GenerateUntilTask, scores: Record<Metric, number>[]): Record<string, MetricValue> {
  return Object.fromEntries(task.metrics.map((m) => {
    const xs = scores.map((s) => s[m]);
    return [m, { value: mean(xs), stderr: stderrOfMean(xs) }];
  }));
}

/** Score given generations (one per item, already cut at the stop strings) as the runner scores the model's. */
export async function scoreGenerations(
  task: GenerateUntilTask, docs: Doc[], items: number[], answers: readonly string[],
  ctx: Pick<TaskContext, 'codeRunner' | 'signal'>,
): Promise<TaskOutcome> {
  if (answers.length !== items.length) throw new Error(`${answers.length} generations for ${items.length} items`);
  needsRunner(task, ctx.codeRunner);
  const scores: Record<Metric, number>[] = [];
  for (const [k, index] of items.entries()) {
    throwIfAborted(ctx.signal);
    scores.push(await scoreItem(task, docs[index], answers[k], ctx.codeRunner));
  }
  return { metrics: aggregate(task, scores), n: items.length, items };
}

export const generateUntil: TaskRunner<GenerateUntilTask> = {
  async run(task, docs, items, ctx) {
    needsRunner(task, ctx.codeRunner);
    const tok = ctx.tokenizer;
    const maxPositions = ctx.runtime.maxPositions;
    const room = Math.min(task.max_gen_toks, maxPositions - 2);
    if (room < 1) throw new Error(`a window of ${maxPositions} positions leaves no room to generate`);
    const scores: Record<Metric, number>[] = [];
    for (const [k, index] of items.entries()) {
      throwIfAborted(ctx.signal);
      const doc = docs[index];
      const prompt = fitPrompt(tok.encode(render(task.doc_to_text, doc)), maxPositions, room, tok.bosId);
      const out = await generate(ctx.runtime, prompt, {
        maxNewTokens: room,
        stopTokens: defaultStopTokens(tok),
        signal: ctx.signal,
        shouldStop: (gen) => answerOf(tok, prompt, gen, task).stopped,
      });
      scores.push(await scoreItem(task, doc, answerOf(tok, prompt, out.tokens, task).text, ctx.codeRunner));
      ctx.onProgress?.({ done: k + 1, total: items.length });
    }
    return { metrics: aggregate(task, scores), n: items.length, items };
  },
};
