// Distillation and healing: training on the CPU reference (ops/ holds every op's forward and backward).
export { fineTune, type FineTuneOptions } from './finetune';
export { Trainer, TrainConfig, type StepInfo, type RunOptions } from './trainer';
export { lossTerms, lossText, stepLine } from './step-line';
export { fullTrainable, fakeQuantize, type Trainable } from './trainable';
export { loraTrainable, type LoraOptions } from './lora';
export { crossEntropyObjective, distillObjective, type Objective, type DistillLoss } from './objective';
export { windowBatches, type BatchSource } from './batches';
export { forwardModel, backwardModel } from './model-grad';
export { weightsOf, withWeights } from './params';
export { distill, distillTrainer, DistillParams, storedDTypes } from './distill';
export { studentFromTeacher, studentFromScratch, StudentConfig } from './student';
export { sequenceBatches } from './batches';
export { distillPass } from './distill-pass';
export { heal } from './heal-pass';
