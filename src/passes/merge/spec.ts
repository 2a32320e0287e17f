// Our JSON form of a merge: mergekit's configuration, field for field, in camelCase (merge_method -> method,
// base_model -> baseModel, layer_range -> layerRange). A model is referenced by a string: a path (resolved by
// the host, relative to the config file) or "self", the model a recipe is applied to; `sha256` pins a
// reference to exact bytes. src/io/mergekit-yaml.ts turns mergekit YAML into this.
import { z } from 'zod';
import { MERGE_METHOD_IDS } from './index';

const Scalar = z.union([z.number(), z.boolean()]);
/** A number, a gradient over layers ([0, 0.5, 1] interpolated across a slice), or filtered settings. */
const Value = z.union([Scalar, z.array(z.number()).min(1)]);
const Conditional = z.object({ filter: z.string().optional(), value: Value }).strict();
export const Setting = z.union([Value, z.array(Conditional).min(1)]);
export type Setting = z.infer<typeof Setting>;

export const Parameters = z.record(z.string(), Setting);
export type Parameters = z.infer<typeof Parameters>;

const ModelRef = z.string().min(1);

const InputModel = z.object({ model: ModelRef, parameters: Parameters.optional() }).strict();

const InputSlice = z.object({
  model: ModelRef,
  layerRange: z.tuple([z.number().int().min(0), z.number().int().min(0)]).refine(([a, b]) => b > a, 'layerRange must be [start, end) with end > start'),
  parameters: Parameters.optional(),
}).strict();

const OutputSlice = z.object({
  sources: z.array(InputSlice).min(1),
  baseModel: ModelRef.optional(),
  parameters: Parameters.optional(),
}).strict();

export const OUT_DTYPES = { float32: 'f32', float16: 'f16', bfloat16: 'bf16' } as const;

export const MergeSpec = z.object({
  method: z.enum(MERGE_METHOD_IDS),
  baseModel: ModelRef.optional(),
  models: z.array(InputModel).min(1).optional(),
  slices: z.array(OutputSlice).min(1).optional(),
  parameters: Parameters.optional(),
  /** Storage of the merged tensors (the arithmetic is always f32); default: the inputs' float type, else float32. */
  dtype: z.enum(Object.keys(OUT_DTYPES) as ['float32', 'float16', 'bfloat16']).optional(),
  /** Seed of DARE's random drops (mergekit draws from torch's global generator; we fix it). */
  seed: z.number().int().default(0),
  /** Expected sha256 of a referenced model's main file; a mismatch stops the merge. */
  sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits')).optional(),
}).strict().refine((s) => !!s.models !== !!s.slices, "exactly one of 'models' or 'slices' must be given");
export type MergeSpec = z.output<typeof MergeSpec>;

export function parseMergeSpec(json: unknown, source = 'merge'): MergeSpec {
  const r = MergeSpec.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
