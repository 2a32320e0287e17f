// What the predictor learns from: one record per (base model, recipe) that was both predicted and measured:
// its cheap features and its measured deltas. Stored as JSON under one key per base model in any key-value
// store (a JSON file in Node, IndexedDB in the browser, a validator's database later).
import { z } from 'zod';
import type { Result } from '../eval/result';

export const PredictRecord = z.object({
  schema: z.literal('lab.predict-record/1'),
  /** The base model's sha256 (or another stable name of it): records only teach about their own base. */
  base: z.string().min(1),
  recipeHash: z.string().min(1),
  label: z.string().default(''),
  bytes: z.number().int().nonnegative(),
  /** Cheap signals (see features.ts), by name. */
  features: z.record(z.string(), z.number()),
  /** Measured deltas, positive = worse: "<task>:ppl" relative increase, "<task>:<metric>" drop, "kld". */
  measured: z.record(z.string(), z.number()),
});
export type PredictRecord = z.output<typeof PredictRecord>;

/** Any store of JSON values by key: node/json-store.ts (a file) and src/search/idb-store.ts (IndexedDB). */
export interface JsonStore {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

const keyOf = (base: string) => `predict-records/${base}`;

export async function loadRecords(store: JsonStore, base: string): Promise<PredictRecord[]> {
  const raw = await store.get(keyOf(base));
  if (raw === undefined) return [];
  const r = z.array(PredictRecord).safeParse(raw);
  if (!r.success) throw new Error(`predictor records for ${base}: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
  return r.data;
}

/** Add (or replace, by recipe hash) a record; measured values of an earlier record of the same recipe are kept unless remeasured. */
export async function addRecord(store: JsonStore, record: PredictRecord): Promise<void> {
  const records = await loadRecords(store, record.base);
  const i = records.findIndex((r) => r.recipeHash === record.recipeHash);
  if (i < 0) records.push(record);
  else records[i] = { ...record, measured: { ...records[i].measured, ...record.measured } };
  await store.put(keyOf(record.base), records);
}

/**
 * The deltas a Result shows against its base's Result: per task, the relative perplexity increase
 * ("<task>:ppl") and the drop of every other metric ("<task>:<metric>", base minus candidate; for
 * higher-is-better metrics positive is worse), and the KLD from the base when measured.
 */
export function deltasFromResults(base: Result, candidate: Result): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of candidate.tasks) {
    const b = base.tasks.find((x) => x.task === t.task);
    if (!b) continue;
    for (const [metric, v] of Object.entries(t.metrics)) {
      const bv = b.metrics[metric]?.value;
      if (bv === undefined) continue;
      if (metric === 'perplexity') out[`${t.task}:ppl`] = v.value / bv - 1;
      else if (metric !== 'nll') out[`${t.task}:${metric}`] = bv - v.value;
    }
  }
  if (candidate.distribution) out.kld = candidate.distribution.kldMean;
  return out;
}
