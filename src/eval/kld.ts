// Distribution metrics of a candidate against its base model, as llama-perplexity --kl-divergence reports
// them: per-token KL(base || candidate), top-1 agreement, and the tail of the KLD distribution.
// The base's log-probabilities are computed once and cached, so every candidate costs one pass.
import { throwIfAborted } from '../io/errors';
import type { Runtime } from '../runtime/runtime';
import { logSoftmaxRow } from './logits';
import { mean, percentile, stderrOfMean } from './stats';

export interface BaseDistribution {
  contextLength: number;
  vocab: number;
  /** Token chunks scored (BOS first), and per chunk the base log-softmax of the scored rows. */
  chunks: { tokens: number[]; logprobs: Float32Array }[];
}

export interface KldResult {
  kldMean: number;
  kldStderr: number;
  kldP99: number;
  kldMax: number;
  /** Fraction of scored positions where both models' argmax agree. */
  top1: number;
  tokens: number;
}

export interface KldOptions {
  contextLength?: number;
  maxChunks?: number;
  bosId: number | null;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
}

function logSoftmaxRows(logits: Float32Array, firstRow: number, rows: number, vocab: number): Float32Array {
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) logSoftmaxRow(logits, (firstRow + r) * vocab, vocab, out, r * vocab);
  return out;
}

/** Same chunking as perplexity: BOS at each chunk start, the second half of each chunk scored. */
function chunksOf(tokens: readonly number[], opts: KldOptions): number[][] {
  const n = opts.contextLength ?? 512;
  const count = Math.min(Math.floor(tokens.length / n), opts.maxChunks ?? Infinity);
  if (count < 1) throw new Error(`text has ${tokens.length} tokens, fewer than one chunk of ${n}`);
  return Array.from({ length: count }, (_, c) => {
    const chunk = tokens.slice(c * n, (c + 1) * n);
    if (opts.bosId != null) chunk[0] = opts.bosId;
    return chunk;
  });
}

export async function baseDistribution(base: Runtime, tokens: readonly number[], opts: KldOptions): Promise<BaseDistribution> {
  const n = opts.contextLength ?? 512;
  const vocab = base.config.vocabSize;
  const chunks = chunksOf(tokens, opts);
  const out: BaseDistribution = { contextLength: n, vocab, chunks: [] };
  for (const [i, chunk] of chunks.entries()) {
    throwIfAborted(opts.signal);
    base.reset();
    const logits = await base.forward(chunk);
    out.chunks.push({ tokens: chunk, logprobs: logSoftmaxRows(logits, n >> 1, n - 1 - (n >> 1), vocab) });
    opts.onProgress?.({ done: i + 1, total: chunks.length });
  }
  return out;
}

export async function klDivergence(candidate: Runtime, base: BaseDistribution, opts: Pick<KldOptions, 'signal' | 'onProgress'> = {}): Promise<KldResult> {
  const { vocab, contextLength: n } = base;
  if (candidate.config.vocabSize !== vocab) throw new Error(`vocabularies differ: base ${vocab}, candidate ${candidate.config.vocabSize}`);
  const klds: number[] = [];
  let agree = 0;
  for (const [c, { tokens, logprobs }] of base.chunks.entries()) {
    throwIfAborted(opts.signal);
    candidate.reset();
    const logits = await candidate.forward(tokens);
    const rows = logprobs.length / vocab;
    const q = logSoftmaxRows(logits, n >> 1, rows, vocab);
    for (let r = 0; r < rows; r++) {
      let kl = 0, argP = 0, argQ = 0;
      const o = r * vocab;
      for (let i = 0; i < vocab; i++) {
        const lp = logprobs[o + i];
        kl += Math.exp(lp) * (lp - q[o + i]);
        if (lp > logprobs[o + argP]) argP = i;
        if (q[o + i] > q[o + argQ]) argQ = i;
      }
      klds.push(Math.max(kl, 0));
      if (argP === argQ) agree++;
    }
    opts.onProgress?.({ done: c + 1, total: base.chunks.length });
  }
  const sorted = Float64Array.from(klds).sort();
  return {
    kldMean: mean(klds),
    kldStderr: stderrOfMean(klds),
    kldP99: percentile(sorted, 0.99),
    kldMax: sorted[sorted.length - 1],
    top1: agree / klds.length,
    tokens: klds.length,
  };
}
