// The `distill` recipe step: train the current model (typically a structurally pruned student) to match a
// teacher, by default the model before the previous step, on the recipe's calibration text.
import { z } from 'zod';
import { definePass } from '../pass';
import { DistillParams } from './distill';
import { distillOnCalibration, resolveTeacher, teacherReads, TeacherRef } from './pass-common';
import { StudentConfig, studentFromScratch } from './student';

export const DistillPassParams = DistillParams.extend({
  teacher: TeacherRef.default('previous'),
  steps: z.number().int().positive().default(200),
  seqLen: z.number().int().positive().default(64),
  /** 'input' trains the current model; 'scratch' replaces it by a fresh model (of `config` when given) first. */
  init: z.enum(['input', 'scratch']).default('input'),
  config: StudentConfig.default({}),
});

export const distillPass = definePass({
  id: 'distill',
  version: 1,
  family: 'distill',
  summary: 'Distillation: train the model to match a teacher (KL with temperature, optional CE / hidden MSE / top-k, LoRA) on calibration text',
  params: DistillPassParams,
  needsCalibration: true,
  readsEarlier: teacherReads,
  async apply(model, params, ctx) {
    const teacher = await resolveTeacher(params.teacher, ctx, 'distill');
    const student = params.init === 'scratch' ? studentFromScratch(model, params.config, params.seed) : model;
    return distillOnCalibration('distill', teacher, student, params, ctx);
  },
});
