// Eval throughput: items per second for each task family, per runtime, on small real slices.
import { dirSource } from '../node/data-source';
import { loadTaskLibrary } from '../node/tasks';
import { runTask } from '../src/eval/runner';
import type { Model } from '../src/model/model';
import { createTokenizer } from '../src/model/tokenizer/index';
import type { Runtime } from '../src/runtime/runtime';

/** One task per family, and how many items make a fair, short measurement. */
const FAMILIES = [
  { family: 'multiple_choice', task: 'arc_easy', limit: 16 },
  { family: 'multiple_choice (longer contexts)', task: 'hellaswag', limit: 8 },
  { family: 'loglikelihood', task: 'lambada', limit: 16 },
  { family: 'generate_until', task: 'lambada_gen', limit: 8 },
  { family: 'loglikelihood_rolling', task: 'tinystories', limit: 2 },
] as const;

export interface EvalBenchRow {
  runtime: string;
  family: string;
  task: string;
  items: number;
  seconds: number;
  itemsPerSecond: number;
}

export async function benchEval(model: Model, runtimes: { label: string; rt: Runtime }[], dataDir: string): Promise<EvalBenchRow[]> {
  const library = loadTaskLibrary();
  const tok = createTokenizer(model.tokenizer!);
  const data = dirSource(dataDir);
  const rows: EvalBenchRow[] = [];
  for (const { label, rt } of runtimes) {
    for (const f of FAMILIES) {
      const r = await runTask(rt, tok, library.get(f.task)!, { data, limit: f.limit, seed: 'bench' });
      rows.push({ runtime: label, family: f.family, task: f.task, items: r.n, seconds: r.seconds, itemsPerSecond: r.itemsPerSecond });
    }
  }
  return rows;
}

export function formatEvalTable(rows: EvalBenchRow[]): string {
  const head = ['runtime', 'family', 'task', 'items', 'items/s'];
  const body = rows.map((r) => [r.runtime, r.family, r.task, String(r.items), r.itemsPerSecond.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
