// What the distill and heal passes share: finding the teacher and training on the recipe's calibration text.
import { z } from 'zod';
import { modelParams, type Model } from '../../model/model';
import type { Tensor } from '../../model/tensor';
import type { EarlierRef, PassContext } from '../pass';
import { sequenceBatches } from './batches';
import { distillTrainer, DistillParams } from './distill';
import { lossText } from './step-line';

/**
 * The teacher: 'base' is the recipe's input model, 'previous' the model before the previous step (what a
 * pruning or quantization step started from); anything else is a model reference the host resolves (a path).
 */
export const TeacherRef = z.string().min(1);

/** The earlier model a teacher reference needs the runner to keep, if any (a path is opened when used). */
export function teacherReads(params: { teacher: string }): readonly EarlierRef[] {
  return params.teacher === 'base' || params.teacher === 'previous' ? [params.teacher] : [];
}

export async function resolveTeacher(ref: string, ctx: PassContext, pass: string): Promise<Model> {
  const earlier = ctx.earlier ?? [];
  if (ref === 'base' || ref === 'previous') {
    if (earlier.length === 0) throw new Error(`${pass}: teacher "${ref}" needs an earlier step in the recipe (this is its first); name a teacher model instead`);
    const m = ref === 'base' ? earlier[0] : earlier[earlier.length - 1];
    if (!m) throw new Error(`${pass}: teacher "${ref}" was released by the recipe runner (the pass must declare it in readsEarlier)`);
    return m;
  }
  if (!ctx.models) throw new Error(`${pass}: cannot open teacher ${ref}: this host gives the pass no model loader`);
  const store = await ctx.models(ref);
  const tensors = new Map<string, Tensor>();
  for (const name of store.names) tensors.set(name, await store.load(name));
  return { config: store.config, tensors, tokenizer: store.tokenizer, source: { format: 'store', name: store.name } };
}

/** Distills `student` toward the teacher on windows of the calibration text, with progress and cancellation. */
export async function distillOnCalibration(
  pass: string, teacher: Model, student: Model, params: z.output<typeof DistillParams>, ctx: PassContext,
): Promise<Model> {
  if (!ctx.calibration) throw new Error(`${pass} needs training text (the recipe's calibration data)`);
  const data = sequenceBatches(ctx.calibration.sequences, { ...params, bosId: student.config.bosTokenId });
  const trainer = distillTrainer(teacher, student, data, params);
  const first = { loss: NaN };
  await trainer.run({
    signal: ctx.signal,
    onStep: (s) => {
      if (s.step === 1) first.loss = s.loss;
      ctx.onProgress?.({ stage: `${pass} ${lossText(s)}`, done: s.step, total: s.steps });
    },
  });
  const last = trainer.history.at(-1)!;
  ctx.report?.({ pass, teacher: teacher.source.name, teacherParams: modelParams(teacher), steps: trainer.step, firstLoss: first.loss, lastLoss: last.loss, trainable: trainer.trainable.describe(), data: ctx.calibration.description });
  return trainer.toModel(`${student.source.name} ${pass}ed`);
}
