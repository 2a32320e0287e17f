// Fine-tuning and distillation on WebGPU with the CPU trainer's configuration (TrainConfig), data
// (windowBatches: the same seeded windows) and learning-rate schedule, so one config trains on either
// backend and the runs can be compared step by step. The teacher (distillation) runs on the GPU too,
// through WebGpuRuntime, one window at a time.
import type { z } from 'zod';
import { throwIfAborted } from '../../io/errors';
import type { Model } from '../../model/model';
import { windowBatches } from '../../passes/distill/batches';
import type { DistillLoss } from '../../passes/distill/objective';
import { topKLogits } from '../../passes/distill/ops';
import { learningRate } from '../../passes/distill/schedule';
import { DistillParams, storedDTypes } from '../../passes/distill/distill';
import { TrainConfig, type StepInfo } from '../../passes/distill/trainer';
import { WebGpuRuntime } from '../../runtime/webgpu';
import { decodeGpuCheckpoint, encodeGpuCheckpoint } from './checkpoint';
import { GpuTrainer, type TrainBatch } from './trainer';

export type GpuTrainOptions = z.input<typeof TrainConfig> & {
  /** Distil from this model (KL on its logits); without it, plain next-token cross-entropy. */
  teacher?: Model;
  /** Loss weights and temperature when distilling (defaults: kl 1, ce 0, temperature 1; topK 0: full teacher logits). */
  loss?: Partial<Pick<DistillLoss, 'kl' | 'ce' | 'temperature' | 'hiddenMse' | 'topK'>>;
  /** Pruned weights stay zero (default true, as the CPU fineTune and distill). */
  keepSparsity?: boolean;
  signal?: AbortSignal;
  onProgress?: (s: StepInfo) => void;
  /** Called with checkpoint bytes (the CPU trainer's format) every `checkpointEvery` steps and after the last. */
  onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
  checkpointEvery?: number;
  /** Continue from checkpoint bytes of a run with the same config (from either backend). */
  resume?: Uint8Array;
};

export interface GpuTrainResult {
  model: Model;
  history: StepInfo[];
  /** Tokens trained on (rows with a loss, summed over steps) per second of wall time, the teacher included. */
  tokensPerSecond: number;
}

export async function trainOnGpu(device: GPUDevice, student: Model, tokens: ArrayLike<number>, opts: GpuTrainOptions): Promise<GpuTrainResult> {
  const { teacher, loss = {}, keepSparsity, signal, onProgress, onCheckpoint, checkpointEvery, resume, ...rest } = opts;
  const config = TrainConfig.parse(rest);
  // what a checkpoint records: the CPU fineTune's / distill's own config, so either backend can resume it
  const recorded: Record<string, unknown> = teacher
    ? DistillParams.parse({ ...rest, loss, keepSparsity: keepSparsity ?? true })
    : config;
  if ((loss.hiddenMse ?? 0) > 0) throw new Error('GPU training: the hidden-state MSE loss is CPU-only (set hiddenMse to 0)');
  // as the CPU trainer: non-f32 tensors train straight-through their dtype (QAT) and keep their formats
  // (GpuTrainer.create refuses, by name, a dtype the GPU has no fake-quantization kernel for)
  const fakeQuant = storedDTypes(student);
  if (teacher && teacher.config.vocabSize !== student.config.vocabSize) {
    throw new Error(`distill: teacher vocabulary ${teacher.config.vocabSize} differs from the student's ${student.config.vocabSize}`);
  }
  const data = windowBatches(tokens, { ...config, bosId: student.config.bosTokenId });
  const trainer = await GpuTrainer.create(device, student, {
    sequences: config.batch, seqLen: config.seqLen, keepSparsity: keepSparsity ?? true, fakeQuant,
    adamw: { beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay, maxGradNorm: config.clipNorm },
    ceWeight: teacher ? (loss.ce ?? 0) : 1,
    klWeight: loss.kl ?? 1,
    temperature: loss.temperature ?? 1,
    teacherTopK: teacher ? (loss.topK ?? 0) : 0,
  });
  const teacherRt = teacher ? await WebGpuRuntime.create(device, teacher, { maxPositions: config.seqLen }) : undefined;
  const history: StepInfo[] = [];
  let first = 0;
  const started = performance.now();
  try {
    if (resume) {
      const at = await decodeGpuCheckpoint(trainer, resume, recorded);
      first = at.step;
      history.push(...at.history);
    }
    for (let step = first; step < config.steps; step++) {
      throwIfAborted(signal);
      const micro: TrainBatch[] = [];
      for (let m = 0; m < config.accumulate; m++) micro.push(await batchOf(data(step, m), teacherRt, loss.topK ?? 0));
      const lr = learningRate(step, config);
      const r = await trainer.step(micro, lr);
      const parts: Record<string, number> = {};
      if (!Number.isNaN(r.ce)) parts.ce = r.ce;
      if (!Number.isNaN(r.kl)) parts.kl = r.kl;
      const info: StepInfo = { step: step + 1, steps: config.steps, loss: r.loss, parts, lr, gradNorm: r.gradNorm };
      history.push(info);
      onProgress?.(info);
      if (onCheckpoint && ((checkpointEvery && (step + 1) % checkpointEvery === 0) || step + 1 === config.steps)) {
        await onCheckpoint(await encodeGpuCheckpoint(trainer, { step: step + 1, config: recorded, history }), step + 1);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const model = await trainer.toModel(`${student.source.name} ${teacher ? 'distilled' : 'fine-tuned'} (webgpu)`);
    return { model, history, tokensPerSecond: ((config.steps - first) * config.accumulate * config.batch * config.seqLen) / seconds };
  } finally {
    trainer.dispose();
    teacherRt?.dispose();
  }
}

/** Windows of seqLen + 1 tokens -> inputs, next-token targets and (distilling) the teacher's logits, or their top k. */
async function batchOf(windows: number[][], teacher: WebGpuRuntime | undefined, topK: number): Promise<TrainBatch> {
  const tokens = windows.flatMap((w) => w.slice(0, -1));
  const targets = windows.flatMap((w) => w.slice(1));
  if (!teacher) return { tokens, targets };
  const V = teacher.config.vocabSize, n = windows[0].length - 1;
  const teacherLogits = new Float32Array(windows.length * n * V);
  for (let i = 0; i < windows.length; i++) {
    teacher.reset();
    teacherLogits.set(await teacher.forward(windows[i].slice(0, -1)), i * n * V);
  }
  return topK > 0
    ? { tokens, targets, teacherTopK: topKLogits(teacherLogits, windows.length * n, V, topK) }
    : { tokens, targets, teacherLogits };
}
