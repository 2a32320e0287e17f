// What of a request the constraint-driven search can express (src/lab/search.ts): a byte bound, a RAM bound (the
// market's runtime memory: weights as stored + KV cache for the request's context length + activations), "× base"
// upper bounds on one task's perplexity, and an objective it minimises itself: fewest bytes (smallest_bytes) or that
// task's perplexity (best_score). Anything else (speed, value thresholds, other metrics, a weighted score) falls back
// to the fixed recipe list, and the reason is shown on the page.
import type { RequestPayload } from '../market/schema';
import type { MineSearchSpec } from '../lab/search';

export type MinePlan =
  | { kind: 'search'; spec: Omit<MineSearchSpec, 'chunks' | 'maxFullEvals' | 'probeTop' | 'budgetSeconds' | 'key'> }
  | { kind: 'recipes'; reason: string };

export function minePlan(req: RequestPayload): MinePlan {
  const hw = req.hardware;
  if (hw?.speed) return { kind: 'recipes', reason: 'the search cannot bound speed' };
  const ppl = req.constraints.filter((c) => c.metric === 'perplexity' && c.op === '<=' && c.fraction_of_base !== undefined);
  if (ppl.length === 0 || ppl.length !== req.constraints.length) {
    return { kind: 'recipes', reason: 'the search expresses only "perplexity <= × base" constraints' };
  }
  const tasks = new Set(ppl.map((c) => c.task));
  if (tasks.size > 1) return { kind: 'recipes', reason: 'the search measures one task\'s perplexity' };
  const [task] = tasks;
  const o = req.objective;
  if (o.kind === 'weighted' || (o.kind === 'best_score' && (o.task !== task || o.metric !== 'perplexity'))) {
    return { kind: 'recipes', reason: 'the search minimises that task\'s perplexity or the bytes, not this objective' };
  }
  const maxBytes = o.kind === 'best_score' && o.maxBytes !== undefined ? Math.min(o.maxBytes, hw?.maxBytesOnDisk ?? Infinity) : hw?.maxBytesOnDisk;
  return {
    kind: 'search',
    spec: { task, goal: o.kind === 'smallest_bytes' ? 'min-bytes' : 'min-ppl', maxBytes, maxRamBytes: hw?.maxRamBytes, contextLength: hw?.contextLength, maxIncrease: Math.min(...ppl.map((c) => c.fraction_of_base!)) - 1 },
  };
}
