import { describe, expect, it } from 'vitest';
import { Constraint, RequestPayload, type Measured } from '../../src/market/schema';
import { baseTasks, checkClaims, checkConstraints, checkRuntimeClaim, objectiveScore, rank, requiredTasks } from '../../src/market/scoring';
import { fakeResult } from '../server/market-fixtures';

const ADDR = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

function request(over: Partial<RequestPayload> = {}): RequestPayload {
  return RequestPayload.parse({
    schema: 'lab.request/1', title: 't', base: { name: 'base.gguf', sha256: 'cd'.repeat(32), bytes: 1_000_000 },
    constraints: [], objective: { kind: 'smallest_bytes' }, bid: { amount: 100, currency: 'TAO' }, deadlineEpochs: 2, payout: [0.6, 0.3],
    buyer: ADDR, nonce: '00'.repeat(16), timestamp: 1, ...over,
  });
}

const m = (task: string, metric: string, value: number, stderr = 0.01): Measured => ({ [task]: { [metric]: { value, stderr } } });
const cost = (bytesOnDisk: number) => ({ bytesOnDisk, runtime: { bytes: 4000, contextLength: 2048 }, claimed: fakeResult().cost });

describe('market scoring', () => {
  it('schemas: a constraint takes exactly one of value / fraction_of_base; payout shares sum to at most 1', () => {
    expect(Constraint.safeParse({ task: 'a', metric: 'acc', op: '>=', value: 0.5 }).success).toBe(true);
    expect(Constraint.safeParse({ task: 'a', metric: 'acc', op: '>=' }).success).toBe(false);
    expect(Constraint.safeParse({ task: 'a', metric: 'acc', op: '>=', value: 0.5, fraction_of_base: 0.9 }).success).toBe(false);
    expect(Constraint.safeParse({ task: 'a', metric: 'acc', op: '==', value: 0.5 }).success).toBe(false);
    expect(() => request({ payout: [0.7, 0.5] })).toThrow(/sum to more than 1/);
  });

  it('claims within z × combined stderr pass; beyond it they are over-claims, in each metric\'s better direction', () => {
    const claimed = fakeResult({
      tasks: [
        { ...fakeResult().tasks[0], task: 'arc_easy', metrics: { acc: { value: 0.40, stderr: 0.05 }, acc_norm: { value: 0.9, stderr: 0.05 } } },
        { ...fakeResult().tasks[0], task: 'tinystories', metrics: { perplexity: { value: 5, stderr: 0.1 } } },
      ],
    });
    const measured: Measured = {
      arc_easy: { acc: { value: 0.32, stderr: 0.05 }, acc_norm: { value: 0.35, stderr: 0.05 } },
      tinystories: { perplexity: { value: 8, stderr: 0.1 } },
    };
    const checks = checkClaims(claimed, measured, 2);
    const by = Object.fromEntries(checks.map((c) => [`${c.task}.${c.metric}`, c]));
    expect(by['arc_easy.acc'].ok).toBe(true); // 0.08 over, tolerance 2 × 0.0707
    expect(by['arc_easy.acc_norm'].ok).toBe(false);
    expect(by['tinystories.perplexity'].ok).toBe(false); // claimed lower perplexity than measured
    // under-claiming is never an over-claim
    const modest = checkClaims(fakeResult({ tasks: [{ ...fakeResult().tasks[0], metrics: { acc: { value: 0.1, stderr: 0.01 } } }] }), m('arc_easy', 'acc', 0.5));
    expect(modest[0].ok).toBe(true);
  });

  it('constraints: fixed values, fraction_of_base (measured or declared), "<=" upper bounds, hardware', () => {
    const req = request({
      constraints: [
        { task: 'humaneval_ll', metric: 'acc', op: '>=', fraction_of_base: 0.9 },
        { task: 'tinystories', metric: 'perplexity', op: '<=', fraction_of_base: 1.1 },
        { task: 'poetry', metric: 'acc', op: '<=', value: 0.2 },
      ],
      hardware: { maxBytesOnDisk: 500_000, speed: { deviceClass: 'phone', minDecodeTokensPerSecond: 40 } },
    });
    expect(requiredTasks(req)).toEqual(['humaneval_ll', 'tinystories', 'poetry']);
    expect(baseTasks(req)).toEqual(['humaneval_ll', 'tinystories']);
    const measured = { ...m('humaneval_ll', 'acc', 0.46), ...m('tinystories', 'perplexity', 10.5), ...m('poetry', 'acc', 0.25) };
    const base = { ...m('humaneval_ll', 'acc', 0.5), ...m('tinystories', 'perplexity', 10) };
    const checks = checkConstraints(req, measured, base, cost(400_000));
    expect(checks.map((c) => c.ok)).toEqual([true, true, false, true, true]);
    expect(checks[0].threshold).toBeCloseTo(0.45);
    expect(checks[0].text).toMatch(/humaneval_ll\.acc >= 0\.9 × base \(0\.5000\) = 0\.4500/);
    expect(checks[2].text).toBe('poetry.acc <= 0.2000');
    expect(checks[4]).toMatchObject({ source: 'claimed', value: 50, threshold: 40 });
    // too big; base unknown: declared metrics are the fallback, and without them the constraint fails with a reason
    expect(checkConstraints(req, measured, base, cost(600_000))[3].ok).toBe(false);
    const noBase = checkConstraints(req, measured, null, cost(400_000));
    expect(noBase[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/base model's value is unknown/) });
    const declared = request({ ...req, base: { ...req.base, metrics: { humaneval_ll: { acc: 0.5 }, tinystories: { perplexity: 10 } } } });
    expect(checkConstraints(declared, measured, null, cost(400_000)).slice(0, 2).map((c) => c.ok)).toEqual([true, true]);
    // a metric not measured fails, naming it
    expect(checkConstraints(req, {}, base, cost(1))[2]).toMatchObject({ ok: false, reason: 'poetry.acc was not measured' });
  });

  it('RAM: the bound is checked against the runtime memory computed from the artifact, a claim below it is an over-claim', () => {
    const req = request({ hardware: { maxRamBytes: 1_200_000, contextLength: 512 } });
    // the claim (fakeResult's 4,000 B) does not count; the computed figure does
    const ram = (bytes: number) => checkConstraints(req, {}, null, { bytesOnDisk: 1, runtime: { bytes, contextLength: 512 }, claimed: fakeResult().cost }).at(-1);
    expect(ram(921_312)).toMatchObject({ ok: true, source: 'artifact', value: 921_312, threshold: 1_200_000 });
    expect(ram(1_829_888)).toMatchObject({ ok: false, text: 'RAM at run time (weights + KV cache for 512 positions + activations) <= 1200000' });
    // claims: at or above the computation, or below it within 0.5%, hold; further below is an over-claim
    expect(checkRuntimeClaim(921_312, 921_312, 512, 0.005)).toBeNull();
    expect(checkRuntimeClaim(3_000_000, 921_312, 512, 0.005)).toBeNull();
    expect(checkRuntimeClaim(917_000, 921_312, 512, 0.005)).toBeNull();
    expect(checkRuntimeClaim(900_000, 921_312, 512, 0.005)).toBe(
      'over-claim: runtime memory claimed 900000 B, computed from the artifact 921312 B (weights as stored + KV cache for 512 positions + activations; tolerance 0.5%)');
    // old requests without a context length still parse; a context length alone is allowed (it only shapes the RAM figure)
    expect(request({ hardware: { maxRamBytes: 1 } }).hardware).toEqual({ maxRamBytes: 1 });
  });

  it('objectives: smallest bytes, best score (direction-aware), weighted composite', () => {
    expect(objectiveScore({ kind: 'smallest_bytes' }, {}, 300, 1000)).toBe(-300);
    expect(objectiveScore({ kind: 'best_score', task: 'a', metric: 'acc' }, m('a', 'acc', 0.7), 1, 1)).toBe(0.7);
    expect(objectiveScore({ kind: 'best_score', task: 'a', metric: 'perplexity' }, m('a', 'perplexity', 7), 1, 1)).toBe(-7);
    expect(objectiveScore({ kind: 'best_score', task: 'a', metric: 'acc' }, {}, 1, 1)).toBeNull();
    const w = objectiveScore({ kind: 'weighted', terms: [{ task: 'a', metric: 'acc', weight: 2 }, { task: 'b', metric: 'acc_norm', weight: 1 }], bytesWeight: 0.5 },
      { ...m('a', 'acc', 0.5), ...m('b', 'acc_norm', 0.25) }, 500, 1000);
    expect(w).toBeCloseTo(2 * 0.5 + 0.25 - 0.5 * 0.5);
    // an objective budget is a constraint
    const req = request({ objective: { kind: 'best_score', task: 'a', metric: 'acc', maxBytes: 100 } });
    expect(checkConstraints(req, m('a', 'acc', 1), null, cost(101)).at(-1)).toMatchObject({ ok: false, text: 'bytes on disk (objective budget) <= 100' });
  });

  it('ranking: best score first, ties to the earlier submission, one entry per miner, top N share the bid', () => {
    const r = rank([
      { submissionId: 'a', miner: 'M1', score: -500, seq: 1 },
      { submissionId: 'b', miner: 'M2', score: -300, seq: 2 },
      { submissionId: 'c', miner: 'M3', score: -300, seq: 3 },
      { submissionId: 'd', miner: 'M2', score: -400, seq: 4 },
    ], [0.6, 0.3], 100);
    expect(r.map((e) => [e.submissionId, e.rank, e.share, e.amount])).toEqual([['b', 1, 0.6, 60], ['c', 2, 0.3, 30], ['a', 3, 0, 0]]);
    expect(rank([], [1], 10)).toEqual([]);
  });
});
