// Runs task definitions against one runtime: loads each task's documents, picks items from the seed,
// scores them with the runner for the task's output_type, and times it.
import { sha256OfBytes } from '../io/hash';
import type { Tokenizer } from '../model/tokenizer/spec';
import type { Runtime } from '../runtime/runtime';
import type { CodeRunner } from './code/runner';
import { loadDocs } from './data-formats';
import type { DataSource } from './data-source';
import { sampleItems } from './item-sampling';
import type { TaskResult } from './result';
import type { TaskDefinition } from './task-schema';
import { runnerFor } from './tasks/index';

export interface EvalOptions {
  data: DataSource;
  limit?: number;
  seed?: string;
  signal?: AbortSignal;
  /** Needed by tasks that execute generated code (pass@1); see TaskContext. */
  codeRunner?: CodeRunner;
  onProgress?: (p: { task: string; done: number; total: number }) => void;
}

/** The items a task evaluates for a seed: every party derives the same subset from the same seed. */
export async function selectItems(task: TaskDefinition, total: number, limit: number | undefined, seed: string): Promise<number[]> {
  if (task.output_type === 'loglikelihood_rolling') return []; // chunks of one text, in order
  return sampleItems(total, limit ?? total, `${seed}/${task.id}`);
}

export async function runTask(rt: Runtime, tok: Tokenizer, task: TaskDefinition, opts: EvalOptions): Promise<TaskResult> {
  const seed = opts.seed ?? '0';
  const docs = await loadDocs(opts.data, task.data);
  const items = await selectItems(task, docs.length, opts.limit, seed);
  const t0 = performance.now();
  const outcome = await runnerFor(task).run(task, docs, items, {
    runtime: rt, tokenizer: tok, data: opts.data, limit: opts.limit, seed, signal: opts.signal, codeRunner: opts.codeRunner,
    onProgress: (p) => opts.onProgress?.({ task: task.id, ...p }),
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    task: task.id,
    version: task.version,
    metrics: outcome.metrics,
    n: outcome.n,
    seed,
    itemsHash: sha256OfBytes(new TextEncoder().encode(JSON.stringify(outcome.items))),
    seconds,
    itemsPerSecond: seconds > 0 ? outcome.n / seconds : 0,
  };
}

export async function runTasks(rt: Runtime, tok: Tokenizer, tasks: TaskDefinition[], opts: EvalOptions): Promise<TaskResult[]> {
  const out: TaskResult[] = [];
  for (const t of tasks) out.push(await runTask(rt, tok, t, opts));
  return out;
}
