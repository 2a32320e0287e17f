// How a miner judges its own candidate before submitting: the request's constraints and objective, applied to
// what it measured, exactly as the validator will apply them to its re-measurement (src/market/scoring.ts).
import type { Result } from '../eval/result';
import type { ConstraintCheck, Measured, RequestPayload } from '../market/schema';
import { checkConstraints, describeConstraint, objectiveScore } from '../market/scoring';

export interface Verdict {
  ok: boolean;
  /** Higher is better; null when a metric the objective needs was not measured. */
  score: number | null;
  checks: ConstraintCheck[];
  reasons: string[];
}

export const measuredOf = (r: Result): Measured => Object.fromEntries(r.tasks.map((t) => [t.task, t.metrics]));

export function judge(req: RequestPayload, result: Result, base: Result | null): Verdict {
  const measured = measuredOf(result);
  const checks = checkConstraints(req, measured, base ? measuredOf(base) : null, {
    bytesOnDisk: result.cost.bytesOnDisk,
    // the miner's runtimeBytes is the validator's function of the same tensors (src/model/runtime-memory.ts)
    runtime: { bytes: result.cost.runtimeBytes, contextLength: req.hardware?.contextLength },
    claimed: result.cost,
  });
  const score = objectiveScore(req.objective, measured, result.cost.bytesOnDisk, req.base.bytes);
  const reasons = checks.filter((c) => !c.ok).map(describeConstraint);
  if (score === null) reasons.push('a metric the objective needs was not measured');
  return { ok: reasons.length === 0, score, checks, reasons };
}
