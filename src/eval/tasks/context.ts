import type { Tokenizer } from '../../model/tokenizer/spec';
import type { CodeRunner } from '../code/runner';
import type { Runtime } from '../../runtime/runtime';
import type { DataSource } from '../data-source';
import type { Doc } from '../data-formats';

export interface TaskContext {
  runtime: Runtime;
  tokenizer: Tokenizer;
  data: DataSource;
  /** Evaluate at most this many items (chunks for perplexity); undefined = all. */
  limit?: number;
  /** Seed string for item and few-shot selection (a validator uses the epoch's seed). */
  seed: string;
  signal?: AbortSignal;
  /** Runs generated programs (pass@1) in a sandbox the host provides: node/python-sandbox.ts, src/eval/code/browser-runner.ts. */
  codeRunner?: CodeRunner;
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface MetricValue {
  value: number;
  stderr: number;
}

export interface TaskOutcome {
  metrics: Record<string, MetricValue>;
  /** Items (or chunks) scored. */
  n: number;
  /** Indices of the evaluated documents in the task's data, so others can check the selection. */
  items: number[];
}

export interface TaskRunner<T> {
  run(task: T, docs: Doc[], items: number[], ctx: TaskContext): Promise<TaskOutcome>;
}
