// The Result: what an evaluation produced, in one schema shared by IndexedDB, submissions and validators.
import { z } from 'zod';

const Metric = z.object({ value: z.number(), stderr: z.number().nonnegative() });

export const TaskResult = z.object({
  task: z.string(),
  version: z.number().int(),
  metrics: z.record(z.string(), Metric),
  n: z.number().int().nonnegative(),
  /** Seed that chose the items (and few-shot examples). */
  seed: z.string(),
  /** sha256 of the evaluated item indices, so a validator can check which items were scored. */
  itemsHash: z.string(),
  seconds: z.number().nonnegative(),
  itemsPerSecond: z.number().nonnegative(),
});
export type TaskResult = z.infer<typeof TaskResult>;

export const Distribution = z.object({
  base: z.object({ name: z.string(), sha256: z.string().nullable() }),
  kldMean: z.number().nonnegative(),
  kldStderr: z.number().nonnegative(),
  kldP99: z.number().nonnegative(),
  kldMax: z.number().nonnegative(),
  top1: z.number().min(0).max(1),
  tokens: z.number().int().positive(),
});

export const Result = z.object({
  schema: z.literal('lab.result/1'),
  model: z.object({
    name: z.string(),
    format: z.string(),
    parameters: z.number().int().nonnegative(),
  }),
  recipeHash: z.string().nullable(),
  artifactSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  tasks: z.array(TaskResult),
  distribution: Distribution.nullable(),
  cost: z.object({
    bytesOnDisk: z.number().int().nonnegative(),
    /** Runtime memory as the market defines it (src/model/runtime-memory.ts): weights as stored + KV cache + activations. */
    runtimeBytes: z.number().int().nonnegative(),
    /** Peak resident memory of the host process, where the host can tell (Node). */
    peakHostBytes: z.number().int().nonnegative().nullable(),
    prefillTokensPerSecond: z.number().nonnegative().nullable(),
    decodeTokensPerSecond: z.number().nonnegative().nullable(),
  }),
  device: z.object({
    backend: z.enum(['cpu', 'webgpu']),
    host: z.enum(['node', 'browser']),
    adapter: z.string().nullable(),
  }),
  timing: z.object({ startedAt: z.string(), seconds: z.number().nonnegative() }),
});
export type Result = z.infer<typeof Result>;
