// Per-token NLL and KL(base || model) over the first chunks of a text with llama.cpp's protocol (BOS first,
// second half of each chunk scored, as perplexity() does), and paired comparisons between two such runs:
// the quantization and pruning tables compare methods token by token, which is far tighter than two stderrs.
import { logSoftmaxRow, negLogLikelihood } from '../src/eval/logits';
import { mean, stderrOfMean } from '../src/eval/stats';
import type { Model } from '../src/model/model';
import { CpuRuntime } from '../src/runtime/cpu-reference';

export interface TokenScores {
  ppl: number;
  /** llama.cpp's +/- (ppl times the stderr of the mean NLL). */
  stderr: number;
  nll: Float64Array;
  kld: Float64Array;
  /** Log-softmax of every scored row: pass as `base` to measure another model's KLD against this one. */
  logprobs: Float64Array[];
}

export function scoreTokens(model: Model, tokens: readonly number[], ctx: number, chunks: number, base?: Float64Array[]): TokenScores {
  const rt = new CpuRuntime(model, { maxPositions: ctx });
  const vocab = model.config.vocabSize;
  const nll: number[] = [], kld: number[] = [], logprobs: Float64Array[] = [];
  for (let c = 0; c < chunks; c++) {
    const chunk = tokens.slice(c * ctx, (c + 1) * ctx);
    chunk[0] = model.config.bosTokenId!;
    rt.reset();
    const logits = rt.forwardSync(chunk);
    for (let j = ctx / 2; j < ctx - 1; j++) {
      nll.push(negLogLikelihood(logits, j * vocab, vocab, chunk[j + 1]));
      const q = logSoftmaxRow(logits, j * vocab, vocab), p = base?.[logprobs.length] ?? q;
      let kl = 0;
      for (let i = 0; i < vocab; i++) kl += Math.exp(p[i]) * (p[i] - q[i]);
      kld.push(kl);
      logprobs.push(q);
    }
  }
  const v = Float64Array.from(nll), ppl = Math.exp(mean(v));
  return { ppl, stderr: ppl * stderrOfMean(v), nll: v, kld: Float64Array.from(kld), logprobs };
}

/** Mean and stderr of the per-token difference b - a (negative: b is better). */
export function paired(a: Pick<TokenScores, 'nll' | 'kld'>, b: Pick<TokenScores, 'nll' | 'kld'>, key: 'nll' | 'kld' = 'nll') {
  const d = b[key].map((x, i) => x - a[key][i]);
  return { mean: mean(d), se: stderrOfMean(d) };
}
