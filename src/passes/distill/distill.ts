// Distillation: train a student to match a teacher's next-token distributions (KL with temperature, plus
// optional cross-entropy and hidden-state MSE) on windows of text. Healing is the same thing run briefly
// on a pruned or quantized student: zeros stay zero (keepSparsity) and quantized tensors train f32 masters
// through a straight-through estimator in their own dtype, so the result has the student's sparsity and formats.
import { z } from 'zod';
import type { DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import type { BatchSource } from './batches';
import { distillObjective } from './objective';
import { weightsOf } from './params';
import { loraTrainable } from './lora';
import { fullTrainable, type Trainable } from './trainable';
import { TrainConfig, Trainer, type RunOptions, type StepInfo } from './trainer';

export const DistillLossParams = z.object({
  temperature: z.number().positive().default(1),
  kl: z.number().min(0).default(1),
  ce: z.number().min(0).default(0),
  hiddenMse: z.number().min(0).default(0),
  topK: z.number().int().min(0).default(0),
});

export const LoraParams = z.object({
  rank: z.number().int().positive(),
  alpha: z.number().positive().optional(),
  targets: z.array(z.string()).default(['self_attn.q_proj.weight', 'self_attn.v_proj.weight']),
});

export const DistillParams = TrainConfig.extend({
  loss: DistillLossParams.default(DistillLossParams.parse({})),
  /** Weights that are exactly zero in the student stay zero (a pruned student keeps its sparsity). */
  keepSparsity: z.boolean().default(true),
  /** Train low-rank adapters instead of the weights (merged on export). */
  lora: LoraParams.optional(),
});
export type DistillParams = z.output<typeof DistillParams>;

const FLOAT = new Set<DTypeId>(['f32']);

/** The student's non-f32 tensors: each trains through a fake-quantization in its own dtype. */
export function storedDTypes(model: Model): Map<string, DTypeId> {
  return new Map([...model.tensors].filter(([, t]) => !FLOAT.has(t.dtype)).map(([n, t]) => [n, t.dtype]));
}

export function studentTrainable(student: Model, p: Pick<DistillParams, 'keepSparsity' | 'lora' | 'seed'>): Trainable {
  const masters = weightsOf(student);
  const fakeQuant = storedDTypes(student);
  if (p.lora) {
    if (fakeQuant.size) throw new Error(`LoRA on a student with ${[...fakeQuant.values()][0]} tensors is not supported; heal it with full training`);
    return loraTrainable(student, masters, { rank: p.lora.rank, alpha: p.lora.alpha ?? 2 * p.lora.rank, targets: p.lora.targets, seed: p.seed, keepSparsity: p.keepSparsity });
  }
  return fullTrainable(masters, { keepSparsity: p.keepSparsity, fakeQuant });
}

/** Builds the trainer (so callers can checkpoint, resume or step it themselves). */
export function distillTrainer(teacher: Model, student: Model, data: BatchSource, params: z.input<typeof DistillParams>): Trainer {
  const p = DistillParams.parse(params);
  return new Trainer(student, studentTrainable(student, p), distillObjective(teacher, student, p.loss), data, p);
}

export async function distill(
  teacher: Model, student: Model, data: BatchSource, params: z.input<typeof DistillParams>, run: RunOptions = {},
): Promise<{ model: Model; history: StepInfo[] }> {
  const trainer = distillTrainer(teacher, student, data, params);
  const history = await trainer.run(run);
  return { model: trainer.toModel(`${student.source.name} distilled`), history };
}
