// Token sampling cost per vocabulary size: the full-sort reference (src/runtime/sampling-reference.ts, the
// sampler as first written) against `sample` (ids bucketed by weight, a bucket sorted only when read), in ns per token, for
// temperature alone, top-k and top-p. Logits are normal with standard deviation 3 (about a small LLM's
// spread; the nucleus of top-p 0.9 is then a few percent of the vocabulary). Each option set is timed only
// after both samplers drew the same tokens. Prints a table and writes bench/results/sampling-<date>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname } from 'node:path';
import { sample, seededRandom, type SamplingOptions } from '../src/runtime/sampling';
import { sampleReference } from '../src/runtime/sampling-reference';
import { resultsPath } from './results-dir';

export const SAMPLING_VOCABS = [512, 32_000, 152_064];
const CASES: [label: string, opts: SamplingOptions][] = [
  ['temperature 0.8', { temperature: 0.8 }],
  ['top-k 40', { temperature: 0.8, topK: 40 }],
  ['top-p 0.9', { temperature: 0.8, topP: 0.9 }],
  ['top-k 200 + top-p 0.95', { temperature: 0.8, topK: 200, topP: 0.95 }],
];

export interface SamplingBenchRow { vocab: number; options: string; referenceNs: number; sampleNs: number; speedup: number; checkedDraws: number }

type Sampler = (logits: Float32Array, opts: SamplingOptions, random: () => number) => number;

function gaussianLogits(n: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 3 * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return out;
}

/**
 * ns per token: the best of 5 rounds, each drawing over the logit vectors in turn until `minMs` / 5 and 2
 * draws have passed. The best round, because other processes on a shared machine only ever add time.
 */
function time(sampler: Sampler, set: Float32Array[], opts: SamplingOptions, minMs: number): number {
  const random = seededRandom(1);
  for (let i = 0; i < Math.min(4, set.length); i++) sampler(set[i], opts, random); // warm-up (JIT)
  let best = Infinity, k = 0;
  for (let round = 0; round < 5; round++) {
    let draws = 0, elapsed = 0;
    const t0 = performance.now();
    while (elapsed < minMs / 5 || draws < 2) {
      sampler(set[k++ % set.length], opts, random);
      draws++;
      elapsed = performance.now() - t0;
    }
    best = Math.min(best, (elapsed * 1e6) / draws);
  }
  return best;
}

export function benchSampling(options: { vocabs?: number[]; minMs?: number; write?: boolean } = {}): SamplingBenchRow[] {
  const { vocabs = SAMPLING_VOCABS, minMs = 500, write = true } = options;
  const rows: SamplingBenchRow[] = [];
  for (const vocab of vocabs) {
    const set = Array.from({ length: 8 }, (_, i) => gaussianLogits(vocab, 1000 + i));
    for (const [label, opts] of CASES) {
      const a = seededRandom(vocab), b = seededRandom(vocab);
      let checkedDraws = 0;
      for (const logits of set) {
        for (let d = 0; d < 4; d++, checkedDraws++) {
          const want = sampleReference(logits, opts, a), got = sample(logits, opts, b);
          if (got !== want) throw new Error(`sampling bench: vocab ${vocab}, ${label}: sample drew ${got}, the reference ${want}`);
        }
      }
      const referenceNs = time(sampleReference, set, opts, minMs);
      const sampleNs = time(sample, set, opts, minMs);
      rows.push({ vocab, options: label, referenceNs, sampleNs, speedup: referenceNs / sampleNs, checkedDraws });
    }
  }
  console.log(formatSamplingTable(rows));
  if (write) {
    const date = new Date().toISOString();
    const file = resultsPath(`sampling-${date.slice(0, 10)}.json`);
    mkdirSync(dirname(file), { recursive: true });
    const host = { platform: platform(), arch: arch(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };
    writeFileSync(file, JSON.stringify({ bench: 'sampling', date, logits: 'normal, sd 3, 8 vectors per vocabulary', host, rows }, null, 2) + '\n');
    console.log(`wrote ${file}`);
  }
  return rows;
}

export function formatSamplingTable(rows: SamplingBenchRow[]): string {
  const head = ['vocab', 'options', 'full sort ns/token', 'sample ns/token', 'speedup'];
  const body = rows.map((r) => [String(r.vocab), r.options, r.referenceNs.toFixed(0), r.sampleNs.toFixed(0), `${r.speedup.toFixed(1)}x`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
