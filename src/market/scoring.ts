// Scoring rules, pure functions over measurements: which claims are over-claims, which constraints hold,
// how the request's objective ranks valid submissions, and how the bid splits over the top N.
import type { Result } from '../eval/result';
import type { ClaimCheck, Constraint, ConstraintCheck, Measured, Objective, RankEntry, RequestPayload } from './schema';

export type Direction = 'higher' | 'lower';

/** Which way is better, per metric name (lm-evaluation-harness names). One table; unknown metrics are refused. */
export const METRIC_DIRECTION: Record<string, Direction> = {
  acc: 'higher',
  acc_norm: 'higher',
  exact_match: 'higher',
  'pass@1': 'higher',
  perplexity: 'lower',
  nll: 'lower',
};

export function direction(metric: string): Direction {
  const d = METRIC_DIRECTION[metric];
  if (!d) throw new Error(`unknown metric "${metric}" (known: ${Object.keys(METRIC_DIRECTION).join(', ')})`);
  return d;
}

/** Tasks a request needs measured: those its constraints and objective name. */
export function requiredTasks(req: RequestPayload): string[] {
  const o = req.objective;
  const fromObjective = o.kind === 'best_score' ? [o.task] : o.kind === 'weighted' ? o.terms.map((t) => t.task) : [];
  return [...new Set([...req.constraints.map((c) => c.task), ...fromObjective])];
}

/** Tasks whose fraction_of_base constraints need the base model measured. */
export function baseTasks(req: RequestPayload): string[] {
  return [...new Set(req.constraints.filter((c) => c.fraction_of_base !== undefined).map((c) => c.task))];
}

/**
 * A claim passes when it exceeds the re-measurement (in the metric's better direction) by at most
 * z × sqrt(claimed stderr² + measured stderr²): miner and validator score different item samples, so the
 * difference of two means carries both standard errors. The validator uses z = 3 (see server/validator.ts).
 */
export function checkClaims(claimed: Result, measured: Measured, z = 3): ClaimCheck[] {
  const out: ClaimCheck[] = [];
  for (const t of claimed.tasks) {
    for (const [metric, c] of Object.entries(t.metrics)) {
      const m = measured[t.task]?.[metric];
      if (!m || !(metric in METRIC_DIRECTION)) continue;
      const tolerance = z * Math.hypot(c.stderr, m.stderr) + 1e-9;
      const excess = direction(metric) === 'higher' ? c.value - m.value : m.value - c.value;
      out.push({
        task: t.task, metric, claimed: c.value, claimedStderr: c.stderr, measured: m.value, measuredStderr: m.stderr,
        tolerance, ok: excess <= tolerance,
      });
    }
  }
  return out;
}

export function describeClaim(c: ClaimCheck): string {
  return `over-claim: ${c.task}.${c.metric} claimed ${c.claimed.toFixed(4)} ± ${c.claimedStderr.toFixed(4)}, ` +
    `re-measured ${c.measured.toFixed(4)} ± ${c.measuredStderr.toFixed(4)} (tolerance ${c.tolerance.toFixed(4)})`;
}

const fmt = (x: number) => (Number.isInteger(x) && Math.abs(x) >= 10 ? String(x) : x.toFixed(4));

export interface CostFigures {
  /** The artifact's real size (the validator has the bytes). */
  bytesOnDisk: number;
  /** Runtime memory computed from the artifact (src/model/runtime-memory.ts) for `contextLength` KV positions. */
  runtime: { bytes: number; contextLength?: number };
  /** From the miner's Result: the validator's runtime (CPU, f32) is no measure of the miner's device's speed. */
  claimed: Result['cost'];
}

/**
 * A claimed runtimeBytes below the validator's computation from the artifact by more than `tolerance` (relative)
 * is an over-claim: the reason, or null when the claim holds. A claim above it only overstates the cost.
 */
export function checkRuntimeClaim(claimed: number, computed: number, contextLength: number, tolerance: number): string | null {
  if (claimed >= computed * (1 - tolerance)) return null;
  return `over-claim: runtime memory claimed ${claimed} B, computed from the artifact ${computed} B ` +
    `(weights as stored + KV cache for ${contextLength} positions + activations; tolerance ${(100 * tolerance).toFixed(1)}%)`;
}

/**
 * Every constraint of the request: quality (measured by the validator; fraction_of_base against the base's
 * measurement on the same items, or the buyer's declared base metrics) and hardware.
 */
export function checkConstraints(req: RequestPayload, measured: Measured, base: Measured | null, cost: CostFigures): ConstraintCheck[] {
  const out: ConstraintCheck[] = req.constraints.map((c) => checkQuality(c, measured, base, req.base.metrics));
  const hw = req.hardware;
  const bound = (text: string, value: number | null, max: number, source: ConstraintCheck['source'], op: '<=' | '>=' = '<=') => {
    const ok = value !== null && (op === '<=' ? value <= max : value >= max);
    out.push({ text: `${text} ${op} ${fmt(max)}`, value, threshold: max, source, ok, reason: value === null ? `${text}: no value` : undefined });
  };
  if (hw?.maxBytesOnDisk !== undefined) bound('bytes on disk', cost.bytesOnDisk, hw.maxBytesOnDisk, 'artifact');
  if (hw?.maxRamBytes !== undefined) bound(`RAM at run time (weights + KV cache for ${cost.runtime.contextLength ?? 'maxPositions'} positions + activations)`, cost.runtime.bytes, hw.maxRamBytes, 'artifact');
  if (hw?.speed?.minDecodeTokensPerSecond !== undefined) {
    bound(`decode tokens/s on ${hw.speed.deviceClass} (claimed)`, cost.claimed.decodeTokensPerSecond, hw.speed.minDecodeTokensPerSecond, 'claimed', '>=');
  }
  if (hw?.speed?.minPrefillTokensPerSecond !== undefined) {
    bound(`prefill tokens/s on ${hw.speed.deviceClass} (claimed)`, cost.claimed.prefillTokensPerSecond, hw.speed.minPrefillTokensPerSecond, 'claimed', '>=');
  }
  const o = req.objective;
  if (o.kind === 'best_score' && o.maxBytes !== undefined) bound('bytes on disk (objective budget)', cost.bytesOnDisk, o.maxBytes, 'artifact');
  return out;
}

function checkQuality(c: Constraint, measured: Measured, base: Measured | null, declared: RequestPayload['base']['metrics']): ConstraintCheck {
  const name = `${c.task}.${c.metric}`;
  const m = measured[c.task]?.[c.metric];
  let threshold: number | null = c.value ?? null;
  let thresholdText = threshold === null ? '' : fmt(threshold);
  if (c.fraction_of_base !== undefined) {
    const b = base?.[c.task]?.[c.metric]?.value ?? declared?.[c.task]?.[c.metric];
    if (b === undefined) {
      return { text: `${name} ${c.op} ${c.fraction_of_base} × base`, value: m?.value ?? null, threshold: null, source: 'measured', ok: false,
        reason: `${name}: the base model's value is unknown (no base artifact in the blob store and none declared in the request)` };
    }
    threshold = c.fraction_of_base * b;
    thresholdText = `${c.fraction_of_base} × base (${fmt(b)}) = ${fmt(threshold)}`;
  }
  const text = `${name} ${c.op} ${thresholdText}`;
  if (!m) return { text, value: null, threshold, source: 'measured', ok: false, reason: `${name} was not measured` };
  const ok = c.op === '>=' ? m.value >= threshold! : m.value <= threshold!;
  return { text, value: m.value, threshold, source: 'measured', ok };
}

export function describeConstraint(c: ConstraintCheck): string {
  return c.reason ?? `constraint failed: ${c.text} (got ${c.value === null ? 'nothing' : fmt(c.value)})`;
}

/** The objective's score (higher is better), or null when a metric it needs is missing. */
export function objectiveScore(objective: Objective, measured: Measured, bytesOnDisk: number, baseBytes: number): number | null {
  switch (objective.kind) {
    case 'smallest_bytes':
      return -bytesOnDisk;
    case 'best_score': {
      const m = measured[objective.task]?.[objective.metric];
      if (!m) return null;
      return direction(objective.metric) === 'higher' ? m.value : -m.value;
    }
    case 'weighted': {
      let s = 0;
      for (const t of objective.terms) {
        const m = measured[t.task]?.[t.metric];
        if (!m) return null;
        s += t.weight * (direction(t.metric) === 'higher' ? m.value : -m.value);
      }
      return s - (objective.bytesWeight ?? 0) * (bytesOnDisk / baseBytes);
    }
  }
}

export interface Candidate {
  submissionId: string;
  miner: string;
  score: number;
  /** Arrival order; the earlier of two equal scores ranks first. */
  seq: number;
}

/** Rank by score (one entry per miner: its best), ties to the earlier submission; the top N share the bid. */
export function rank(candidates: Candidate[], payout: number[], bidAmount: number): RankEntry[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score || a.seq - b.seq);
  const seen = new Set<string>();
  const best = sorted.filter((c) => (seen.has(c.miner) ? false : (seen.add(c.miner), true)));
  return best.map((c, i) => {
    const share = payout[i] ?? 0;
    return { submissionId: c.submissionId, miner: c.miner, score: c.score, rank: i + 1, share, amount: share * bidAmount };
  });
}
