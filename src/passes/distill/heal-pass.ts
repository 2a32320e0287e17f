// The `heal` recipe step: a short distillation after pruning or aggressive quantization, toward the recipe's
// input model. Zeros stay zero (sparsity is kept) and quantized tensors train through a straight-through
// estimator in their own dtype, so the healed model has exactly the student's sparsity, formats and size.
import { z } from 'zod';
import { definePass } from '../pass';
import { DistillParams } from './distill';
import { distillOnCalibration, resolveTeacher, teacherReads, TeacherRef } from './pass-common';

export const HealParams = DistillParams.extend({
  teacher: TeacherRef.default('base'),
  steps: z.number().int().positive().default(30),
  seqLen: z.number().int().positive().default(64),
  batch: z.number().int().positive().default(2),
  warmup: z.number().int().min(0).default(2),
});

export const heal = definePass({
  id: 'heal',
  version: 1,
  family: 'distill',
  summary: 'Healing: short distillation toward the unpruned / unquantized model; keeps sparsity, quantized weights train straight-through',
  params: HealParams,
  needsCalibration: true,
  readsEarlier: teacherReads,
  async apply(model, params, ctx) {
    const teacher = await resolveTeacher(params.teacher, ctx, 'heal');
    return distillOnCalibration('heal', teacher, model, params, ctx);
  },
});
