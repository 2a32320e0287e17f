import { throwIfAborted } from '../io/errors';
import type { Runtime } from './runtime';
import { sample, seededRandom, type SamplingOptions } from './sampling';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed?: number;
  /** Stop after any of these tokens (EOS; llama2.c models also end a story with BOS). */
  stopTokens?: readonly number[];
  signal?: AbortSignal;
  onToken?: (id: number) => void;
  /** Checked after each token, for stop conditions on the text (e.g. a task's "until" strings). */
  shouldStop?: (generated: readonly number[]) => boolean;
}

/** EOS, and BOS too: llama2.c models end a story by starting the next with BOS (run.c stops there). */
export function defaultStopTokens(tok: { eosId: number | null; bosId: number | null }): number[] {
  return [tok.eosId, tok.bosId].filter((t): t is number => t != null);
}

export interface GenerateResult {
  tokens: number[];
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/** Prefill the prompt in one batch, then decode one token at a time from the KV cache. */
export async function generate(rt: Runtime, promptIds: number[], opts: GenerateOptions): Promise<GenerateResult> {
  if (promptIds.length === 0) throw new Error('generation needs at least one prompt token (BOS)');
  const room = rt.maxPositions - promptIds.length;
  const steps = Math.max(0, Math.min(opts.maxNewTokens, room));
  const random = seededRandom(opts.seed ?? 0);
  rt.reset();
  throwIfAborted(opts.signal);
  const t0 = performance.now();
  let logits = await rt.forward(promptIds, { lastOnly: true });
  const t1 = performance.now();
  const tokens: number[] = [];
  for (let i = 0; i < steps; i++) {
    throwIfAborted(opts.signal);
    const next = sample(logits, opts, random);
    tokens.push(next);
    opts.onToken?.(next);
    if (opts.stopTokens?.includes(next)) break;
    if (opts.shouldStop?.(tokens)) break;
    if (i + 1 < steps) logits = await rt.forward([next], { lastOnly: true });
  }
  const t2 = performance.now();
  const prefillMs = t1 - t0, decodeMs = t2 - t1;
  // the last sampled token is never fed back, so decode ran tokens.length - 1 forwards
  const decoded = Math.max(tokens.length - 1, 0);
  return {
    tokens, prefillMs, decodeMs,
    prefillTokensPerSecond: promptIds.length / (prefillMs / 1000),
    decodeTokensPerSecond: decoded > 0 ? decoded / (decodeMs / 1000) : 0,
  };
}
