// The page's own checks: the Pareto front of the size vs quality plot, and how a miner judges a candidate
// against a request before submitting (the validator's scoring rules applied to the miner's measurement).
import { expect, it } from 'vitest';
import { judge } from '../../src/lab/candidate';
import type { RequestPayload } from '../../src/market/schema';
import { formatScore } from '../../src/ui/format';
import { paretoFront } from '../../src/ui/pareto';
import { fakeResult } from '../server/market-fixtures';

it('keeps only the points nothing beats on both size and quality, in either metric direction', () => {
  const pts = [
    { label: 'base', bytes: 1000, value: 3.40 },
    { label: 'q8', bytes: 400, value: 3.41 },
    { label: 'q4', bytes: 250, value: 3.80 },
    { label: 'bad', bytes: 500, value: 3.90 },
    { label: 'int3', bytes: 200, value: NaN },
  ];
  expect(paretoFront(pts, false).map((p) => p.label)).toEqual(['q4', 'q8', 'base']);
  const acc = pts.map((p) => ({ ...p, value: 1 / p.value }));
  expect(paretoFront(acc, true).map((p) => p.label)).toEqual(['q4', 'q8', 'base']);
  expect(paretoFront([], true)).toEqual([]);
});

const request = (over: Partial<RequestPayload> = {}): RequestPayload => ({
  schema: 'lab.request/1', title: 't', base: { name: 'b.gguf', sha256: 'ab'.repeat(32), bytes: 1_000_000, metrics: { arc_easy: { acc: 0.4 } } },
  hardware: { maxBytesOnDisk: 500_000 }, constraints: [{ task: 'arc_easy', metric: 'acc', op: '>=', fraction_of_base: 0.9 }],
  objective: { kind: 'smallest_bytes' }, bid: { amount: 1, currency: 'USD' }, deadlineEpochs: 1, payout: [1],
  buyer: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', nonce: '00'.repeat(16), timestamp: 0, ...over,
});

it('judges a candidate as the validator would: constraints, hardware and the objective score', () => {
  const good = fakeResult({ cost: { ...fakeResult().cost, bytesOnDisk: 400_000 } });
  good.tasks[0].metrics = { acc: { value: 0.37, stderr: 0.02 } };
  expect(judge(request(), good, null)).toMatchObject({ ok: true, score: -400_000, reasons: [] });

  const big = { ...good, cost: { ...good.cost, bytesOnDisk: 600_000 } };
  const v = judge(request(), big, null);
  expect(v.ok).toBe(false);
  expect(v.reasons.join()).toMatch(/bytes on disk <= 500000/);

  const worse = { ...good, tasks: [{ ...good.tasks[0], metrics: { acc: { value: 0.3, stderr: 0.02 } } }] };
  expect(judge(request(), worse, null).reasons.join()).toMatch(/arc_easy\.acc >= 0\.9 × base/);
  // a measured base wins over the declared one
  const base = { ...good, tasks: [{ ...good.tasks[0], metrics: { acc: { value: 0.32, stderr: 0.02 } } }] };
  expect(judge(request(), worse, base).ok).toBe(true);
  expect(judge(request({ objective: { kind: 'best_score', task: 'piqa', metric: 'acc' } }), good, null).reasons).toContain('a metric the objective needs was not measured');
  expect(formatScore(-400000)).toBe('-400,000');
  expect(formatScore(0.41234)).toBe('0.4123');
});
