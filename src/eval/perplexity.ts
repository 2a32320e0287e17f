// Perplexity with llama.cpp's protocol (tools/perplexity): tokenize the whole text with BOS, cut it into
// chunks of n_ctx tokens, put BOS at the start of each chunk, and score only the second half of every
// chunk, so each scored token sees at least n_ctx/2 tokens of context. Numbers compare with llama-perplexity.
import { throwIfAborted } from '../io/errors';
import type { Runtime } from '../runtime/runtime';
import { negLogLikelihood } from './logits';

export interface PerplexityOptions {
  contextLength?: number;
  /** Evaluate at most this many chunks (llama.cpp --chunks). */
  maxChunks?: number;
  bosId: number | null;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number; ppl: number }) => void;
}

export interface PerplexityResult {
  ppl: number;
  /** llama.cpp's "+/-": ppl * sqrt(var(nll) / (N - 1)). */
  stderr: number;
  /** Mean negative log-likelihood per scored token (nats). */
  nll: number;
  tokensScored: number;
  chunks: number;
  contextLength: number;
}

export async function perplexity(rt: Runtime, tokens: readonly number[], opts: PerplexityOptions): Promise<PerplexityResult> {
  const nCtx = opts.contextLength ?? 512;
  if (nCtx > rt.maxPositions) throw new RangeError(`context ${nCtx} exceeds the runtime's ${rt.maxPositions} positions`);
  const available = Math.floor(tokens.length / nCtx);
  const chunks = Math.min(available, opts.maxChunks ?? available);
  if (chunks < 1) throw new Error(`text has ${tokens.length} tokens, fewer than one chunk of ${nCtx}`);
  const first = nCtx >> 1;
  const vocab = rt.config.vocabSize;
  let nll = 0, nll2 = 0, count = 0;
  for (let c = 0; c < chunks; c++) {
    throwIfAborted(opts.signal);
    const chunk = tokens.slice(c * nCtx, (c + 1) * nCtx);
    if (opts.bosId != null) chunk[0] = opts.bosId;
    rt.reset();
    const logits = await rt.forward(chunk);
    for (let j = first; j < nCtx - 1; j++) {
      const v = negLogLikelihood(logits, j * vocab, vocab, chunk[j + 1]);
      nll += v;
      nll2 += v * v;
      count++;
    }
    opts.onProgress?.({ done: c + 1, total: chunks, ppl: Math.exp(nll / count) });
  }
  const mean = nll / count;
  const variance = nll2 / count - mean * mean;
  const ppl = Math.exp(mean);
  return {
    ppl,
    stderr: variance > 0 && count > 1 ? Math.sqrt(variance / (count - 1)) * ppl : 0,
    nll: mean,
    tokensScored: count,
    chunks,
    contextLength: nCtx,
  };
}
