// What a search must satisfy and what it minimises. Limits are "must not exceed" bounds on measured deltas (positive
// = worse), written as people say them: "tinystories:ppl<=+5%" (relative perplexity increase), "kld<=0.05",
// "arc_easy:acc>=-2%" (a drop of at most 2 points), with the bytes and the estimated peak RAM
// (src/model/runtime-memory.ts) as separate bounds. The goal says what is minimised among recipes that satisfy
// everything: "min-ppl" the measured delta `objective` (under a byte bound, typically), "min-bytes" the file's bytes
// (under a quality limit, typically: "the smallest file that keeps ppl <= x base").
import { z } from 'zod';

export const Limit = z.object({ target: z.string().min(1), max: z.number() });
export type Limit = z.output<typeof Limit>;

export const SearchRequest = z.object({
  maxBytes: z.number().int().positive().optional(),
  /** Bound on the estimated peak runtime memory (weights as stored + KV cache + activations). */
  maxRamBytes: z.number().int().positive().optional(),
  /** Positions of KV cache the RAM estimate counts (default: the model's maxPositions, as the runtimes allocate). */
  contextLength: z.number().int().positive().optional(),
  limits: z.array(Limit).default([]),
  /** The measured delta: what min-ppl minimises, and what the predictor predicts. */
  objective: z.string().min(1).default('tinystories:ppl'),
  goal: z.enum(['min-ppl', 'min-bytes']).default('min-ppl'),
});
export type SearchGoal = SearchRequest['goal'];
export type SearchRequest = z.output<typeof SearchRequest>;

const LIMIT = /^([A-Za-z0-9_.-]+(?::[A-Za-z0-9_@.-]+)?)\s*(<=|>=)\s*([+-]?\d+(?:\.\d+)?)(%?)$/;

/** Parse one limit; errors say what form is expected. */
export function parseLimit(text: string): Limit {
  const m = LIMIT.exec(text.trim());
  if (!m) throw new Error(`limit "${text}": expected <task>:<metric><=+X% or >=-X% (e.g. tinystories:ppl<=+5%, kld<=0.05, arc_easy:acc>=-2%)`);
  const [, target, op, num, pct] = m;
  const value = Number(num) / (pct ? 100 : 1);
  if (op === '<=') {
    if (target.endsWith(':ppl') && !pct) throw new Error(`limit "${text}": a perplexity bound is relative; write it as a percentage (e.g. ${target}<=+5%)`);
    return { target, max: value };
  }
  // a lower bound on a higher-is-better metric: the drop (base - candidate) must not exceed -value
  if (value > 0) throw new Error(`limit "${text}": a >= bound is on a change, so it must be <= 0 (e.g. ${target}>=-2%)`);
  return { target, max: -value };
}
