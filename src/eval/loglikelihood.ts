// log P(continuation | context), the primitive behind multiple choice and LAMBADA, computed as
// lm-evaluation-harness does: trailing spaces of the context move into the continuation, the pair is
// encoded whole and the context's tokens are split off, so merges across the boundary are honoured.
// Requests that share a context share its forward pass: the runtime rewinds its KV cache to the
// common prefix instead of recomputing it for every choice.
import { throwIfAborted } from '../io/errors';
import type { Tokenizer } from '../model/tokenizer/spec';
import type { Runtime } from '../runtime/runtime';
import { argmax } from '../runtime/sampling';
import { negLogLikelihood } from './logits';

export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

export interface Loglikelihood {
  /** Sum of log-probabilities of the continuation tokens (nats). */
  logprob: number;
  /** Every continuation token was the argmax (LAMBADA's accuracy). */
  greedy: boolean;
  tokens: number;
}

export interface EncodedPair {
  tokens: number[];
  /** Index in `tokens` of the first continuation token. */
  start: number;
}

export function encodePair(tok: Tokenizer, { context, continuation }: LoglikelihoodRequest, maxTokens: number): EncodedPair {
  const trailing = context.length - context.trimEnd().length;
  if (trailing > 0) {
    continuation = context.slice(-trailing) + continuation;
    context = context.slice(0, -trailing);
  }
  const whole = tok.encode(context + continuation);
  const ctxLen = tok.encode(context).length;
  let start = Math.min(ctxLen, whole.length - 1);
  if (start < 1) throw new Error('loglikelihood needs a context token (BOS) before the continuation');
  // too long for the model: drop tokens from the left, as lm-evaluation-harness does
  const excess = whole.length - maxTokens;
  if (excess > 0) {
    if (excess >= start) throw new Error(`continuation alone (${whole.length - start} tokens) exceeds the context window`);
    return { tokens: whole.slice(excess), start: start - excess };
  }
  return { tokens: whole, start };
}

function commonPrefix(seqs: number[][]): number {
  let n = Math.min(...seqs.map((s) => s.length));
  for (const s of seqs) {
    let i = 0;
    while (i < n && s[i] === seqs[0][i]) i++;
    n = i;
  }
  return n;
}

/** Score requests that all share one context (one multiple-choice item), reusing the shared prefix. */
export async function scoreGroup(rt: Runtime, pairs: EncodedPair[]): Promise<Loglikelihood[]> {
  const vocab = rt.config.vocabSize;
  // feed everything but each sequence's last token; the shared part once
  const shared = Math.max(0, Math.min(commonPrefix(pairs.map((p) => p.tokens)), ...pairs.map((p) => p.start)) - 1);
  rt.reset();
  if (shared > 0) await rt.forward(pairs[0].tokens.slice(0, shared), { lastOnly: true });
  const out: Loglikelihood[] = [];
  for (const p of pairs) {
    rt.rewind(shared);
    const logits = await rt.forward(p.tokens.slice(shared, -1));
    let logprob = 0, greedy = true;
    for (let i = p.start; i < p.tokens.length; i++) {
      const o = (i - 1 - shared) * vocab;
      logprob -= negLogLikelihood(logits, o, vocab, p.tokens[i]);
      greedy &&= argmax(logits.subarray(o, o + vocab)) === p.tokens[i];
    }
    out.push({ logprob, greedy, tokens: p.tokens.length - p.start });
  }
  return out;
}

export async function scoreRequests(
  rt: Runtime, tok: Tokenizer, requests: LoglikelihoodRequest[], signal?: AbortSignal,
): Promise<Loglikelihood[]> {
  const max = rt.maxPositions;
  const out: Loglikelihood[] = [];
  for (let i = 0; i < requests.length; ) {
    throwIfAborted(signal);
    let j = i + 1;
    while (j < requests.length && requests[j].context === requests[i].context) j++;
    out.push(...(await scoreGroup(rt, requests.slice(i, j).map((r) => encodePair(tok, r, max)))));
    i = j;
  }
  return out;
}
