// A request's terms as the Market page lists them (no DOM, no state): every constraint a buyer can set,
// each as one definition-list entry in plain words, so a miner reads the whole deal before working on it.
import type { RequestPayload } from '../market/schema';
import { METRIC_DIRECTION } from '../market/scoring';
import { formatBytes } from './format';

export interface Term { term: string; values: string[] }

const bytes = (n: number) => `${formatBytes(n)} (${n.toLocaleString('en-US')} B)`;
const better = (metric: string) => (METRIC_DIRECTION[metric] === 'lower' ? 'lowest' : 'highest');
const num = (x: number) => String(Number(x.toPrecision(6)));
const positions = (n: number | undefined) => (n === undefined ? 'the artifact\'s maximum context' : `${n.toLocaleString('en-US')} positions`);

export function requestTerms(r: RequestPayload): Term[] {
  const hw = r.hardware, o = r.objective;
  const speed = hw?.speed;
  const declared = (task: string, metric: string) => r.base.metrics?.[task]?.[metric];
  const quality = r.constraints.map((c) => {
    const op = c.op === '<=' ? '≤' : '≥';
    if (c.value !== undefined) return `${c.task}.${c.metric} ${op} ${num(c.value)}`;
    const base = declared(c.task, c.metric);
    return `${c.task}.${c.metric} ${op} ${num(c.fraction_of_base!)} × base${base === undefined ? '' : ` (${num(c.fraction_of_base! * base)}, from the declared ${num(base)})`}`;
  });
  let objective: string;
  if (o.kind === 'smallest_bytes') objective = 'smallest file on disk';
  else if (o.kind === 'best_score') objective = `${better(o.metric)} ${o.task}.${o.metric}${o.maxBytes === undefined ? '' : `, among files ≤ ${bytes(o.maxBytes)}`}`;
  else {
    const terms = o.terms.map((t) => `${num(t.weight)} × ${t.task}.${t.metric}`).join(' + ');
    objective = `highest weighted score: ${terms}${o.bytesWeight ? ` − ${num(o.bytesWeight)} × bytes / base bytes` : ''} (lower-is-better metrics count negated)`;
  }
  const rates = speed && [
    speed.minDecodeTokensPerSecond !== undefined ? `decode ≥ ${num(speed.minDecodeTokensPerSecond)} tokens/s` : '',
    speed.minPrefillTokensPerSecond !== undefined ? `prefill ≥ ${num(speed.minPrefillTokensPerSecond)} tokens/s` : '',
  ].filter(Boolean).join(', ');
  return [
    { term: 'Base model', values: [`${r.base.name}, ${bytes(r.base.bytes)}, sha256 ${r.base.sha256.slice(0, 12)}…`] },
    { term: 'File size', values: [hw?.maxBytesOnDisk === undefined ? 'no limit' : `≤ ${bytes(hw.maxBytesOnDisk)}`] },
    { term: 'Memory at run time', values: [hw?.maxRamBytes === undefined ? 'no limit' : `≤ ${bytes(hw.maxRamBytes)} (weights as stored + KV cache for ${positions(hw.contextLength)} + activations, computed from the artifact)`] },
    { term: 'Speed', values: [speed ? `${rates || 'any'} on ${speed.deviceClass} (as claimed)` : 'no target'] },
    { term: 'Quality', values: quality.length ? quality : ['no thresholds'] },
    { term: 'Ranked by', values: [objective] },
    { term: 'Bid', values: [`${num(r.bid.amount)} ${r.bid.currency}, shared by rank ${r.payout.map((p) => `${num(100 * p)}%`).join(' / ')}; open for ${r.deadlineEpochs} epoch${r.deadlineEpochs === 1 ? '' : 's'}`] },
  ];
}
