// A search's saved state: the candidates with everything learnt about each (bytes, features, predictions,
// measurements) and the prior records it started from. Saved after every unit of work; a search resumes
// from it alone, in Node (a JSON file) or in the browser (IndexedDB).
import { z } from 'zod';
import { PredictRecord } from '../predict/records';
import type { NormalizedRecipe } from '../recipe/schema';

const Prediction = z.object({ value: z.number(), lo: z.number().nullable(), hi: z.number().nullable(), level: z.number() });

export const CandidateState = z.object({
  recipeHash: z.string(),
  name: z.string(),
  /** The normalized recipe (validated when the search was created). */
  recipe: z.custom<NormalizedRecipe>((v) => v !== null && typeof v === 'object' && Array.isArray((v as { passes?: unknown }).passes)),
  stage: z.enum(['listed', 'rejected', 'screened', 'probed', 'evaluated']),
  reason: z.string().optional(),
  bytes: z.number().int().nonnegative().optional(),
  /** Estimated peak runtime memory (memory.ts) at the search's context length. */
  ram: z.number().int().nonnegative().optional(),
  features: z.record(z.string(), z.number()).optional(),
  predicted: Prediction.optional(),
  measured: z.record(z.string(), z.number()).optional(),
  /** 1 for the first full evaluation, 2 for the second, ... */
  evaluation: z.number().int().positive().optional(),
});
export type CandidateState = z.output<typeof CandidateState>;

export const SearchState = z.object({
  schema: z.literal('lab.search-state/1'),
  /** Hash of (base, request, candidates, settings): a state only resumes the search that wrote it. */
  id: z.string(),
  seconds: z.number().nonnegative(),
  prior: z.array(PredictRecord),
  candidates: z.array(CandidateState),
});
export type SearchState = z.output<typeof SearchState>;
