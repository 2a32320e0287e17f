// Students for distillation: the teacher cut down to a smaller config (layers evenly spaced, the first heads
// of each kept KV group, the first FFN channels; for calibrated choices run the structured prune passes
// instead), or a model of any config initialised from scratch.
import { z } from 'zod';
import { validateConfig, type ModelConfig } from '../../model/config';
import { expectedShapes, type Model } from '../../model/model';
import { f32Tensor } from '../../model/tensor';
import { shrinkModel, type Structure } from '../prune/structured';
import { seededRandom } from '../../runtime/sampling';

/** The config fields a student may change. */
export const StudentConfig = z.object({
  numLayers: z.number().int().positive().optional(),
  numHeads: z.number().int().positive().optional(),
  numKvHeads: z.number().int().positive().optional(),
  intermediateSize: z.number().int().positive().optional(),
  hiddenSize: z.number().int().positive().optional(),
  headDim: z.number().int().positive().optional(),
}).strict();
export type StudentConfig = z.infer<typeof StudentConfig>;

const spaced = (keep: number, of: number) => Array.from({ length: keep }, (_, i) => Math.round((i * (of - 1)) / Math.max(1, keep - 1)));

/** The teacher cut to the student config; hidden size and head size must stay (they change every tensor). */
export function studentFromTeacher(teacher: Model, s: StudentConfig): Model {
  const c = teacher.config;
  for (const k of ['hiddenSize', 'headDim'] as const) {
    if (s[k] !== undefined && s[k] !== c[k]) throw new Error(`student ${k} ${s[k]} differs from the teacher's ${c[k]}: initialise it from scratch`);
  }
  const L = s.numLayers ?? c.numLayers, H = s.numHeads ?? c.numHeads, KV = s.numKvHeads ?? c.numKvHeads, F = s.intermediateSize ?? c.intermediateSize;
  if (L > c.numLayers || H > c.numHeads || KV > c.numKvHeads || F > c.intermediateSize) {
    throw new Error(`student config ${JSON.stringify(s)} is larger than the teacher (${c.numLayers} layers, ${c.numHeads}/${c.numKvHeads} heads, ${c.intermediateSize} FFN)`);
  }
  if (H % KV) throw new Error(`student: ${H} heads is not a multiple of ${KV} kv heads`);
  const group = c.numHeads / c.numKvHeads, perGroup = H / KV;
  if (perGroup > group) throw new Error(`student: ${perGroup} heads per kv head exceeds the teacher's ${group}`);
  const kv = Array.from({ length: KV }, (_, i) => i);
  const heads = kv.flatMap((g) => Array.from({ length: perGroup }, (_, j) => g * group + j));
  const per = <T>(v: T) => Array.from({ length: c.numLayers }, () => v);
  const structure: Structure = {
    layers: spaced(L, c.numLayers),
    heads: per(heads), kvHeads: per(kv),
    channels: per(Array.from({ length: F }, (_, i) => i)),
  };
  const out = shrinkModel(teacher, structure);
  return { ...out, source: { ...teacher.source, name: `${teacher.source.name} student` } };
}

/** A fresh model of `config` (the teacher's config with the student overrides): N(0, 0.02) matrices, unit norms. */
export function studentFromScratch(teacher: Model, s: StudentConfig, seed: number): Model {
  const config: ModelConfig = validateConfig({ ...teacher.config, ...s });
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const tensors = new Map([...expectedShapes(config)].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = shape.length === 1 ? new Float32Array(n).fill(name.endsWith('bias') ? 0 : 1) : Float32Array.from({ length: n }, () => 0.02 * normal());
    return [name, f32Tensor(name, shape, values)];
  }));
  return { config, tensors, tokenizer: teacher.tokenizer, source: { format: 'lab', name: `${teacher.source.name} student (scratch)` } };
}
