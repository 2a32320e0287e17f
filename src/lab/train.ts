// Healing a compressed model in the lab: train it toward the base model (the teacher, KL on its logits) on
// TinyStories text. WebGPU (trainOnGpu) when the page has a GPU and the student's formats have GPU fake-quantization
// (f32, f16, bf16, q8_0, q4_0, q5_0); else the CPU Trainer. Both train quantized tensors straight-through their
// format. Both write one checkpoint format, kept in IndexedDB per compressed model (./train-store.ts), so "Resume"
// continues on either backend.
import { z } from 'zod';
import type { DataSource } from '../eval/data-source';
import { loadDocs } from '../eval/data-formats';
import { requestGpuDevice } from '../gpu/device';
import { gpuTrainingUnsupported } from '../gpu/train/fake-quant';
import { trainOnGpu } from '../gpu/train/run';
import type { Model } from '../model/model';
import type { NormalizedRecipe } from '../recipe/schema';
import type { Tokenizer } from '../model/tokenizer/spec';
import { distillTrainer, windowBatches, type StepInfo } from '../passes/distill/index';
import { taskLibrary } from './catalog';
import { CheckpointStore } from './train-store';

export const HealParams = z.object({
  steps: z.number().int().min(1).max(5000).default(20),
  lr: z.number().positive().default(1e-3),
  seqLen: z.number().int().min(4).max(512).default(32),
  batch: z.number().int().min(1).max(16).default(2),
  checkpointEvery: z.number().int().min(1).default(5),
}).strict();
export type HealParams = z.input<typeof HealParams>;

export type TrainBackend = 'webgpu' | 'cpu';
export interface HealStep extends StepInfo { backend: TrainBackend }

/**
 * One stretch of training: from which step, toward how many steps in all (the length of the cosine schedule,
 * which a resume may change) and on which trainer. null: a checkpoint stored before stretches were recorded.
 */
export interface HealRun { fromStep: number; steps: number | null; backend: TrainBackend | null }

export interface HealResult {
  model: Model; history: StepInfo[]; backend: TrainBackend; resumedFrom: number | null;
  /** The stretches that made the weights, as few as give the same weights (see `appendRun`). */
  runs: HealRun[];
}

/**
 * `earlier` then `run`. A resume on the same trainer toward the same total is bit-identical to never stopping
 * (both trainers' checkpoints hold the full optimizer state), so it extends the last stretch instead.
 */
export function appendRun(earlier: HealRun[], run: HealRun): HealRun[] {
  const last = earlier.at(-1);
  return last && last.steps === run.steps && last.backend === run.backend ? earlier : [...earlier, run];
}

export interface HealOptions {
  /** Continue from the checkpoint stored under `key`, when there is one. */
  resume?: boolean;
  /** Try WebGPU (default true); false: the CPU trainer. */
  gpu?: boolean;
  signal?: AbortSignal;
  onStep?: (s: HealStep) => void;
  /** Heard after each checkpoint is stored. */
  onCheckpoint?: (step: number) => void;
}

/** The training text: the first half of the TinyStories task's documents (the evaluation reads its own items). */
export async function healTokens(tok: Tokenizer, data: DataSource): Promise<number[]> {
  const task = taskLibrary().get('tinystories');
  if (!task) throw new Error('the task library has no tinystories task to train on');
  const docs = await loadDocs(data, task.data);
  return tok.encode(docs.slice(0, Math.ceil(docs.length / 2)).map((d) => String(d.text ?? '')).join('\n\n'));
}

/**
 * The healed model's recipe: the compressed model's, with the heal appended as a `lab-heal` step (the Lab's
 * trainer on TinyStories' first half, toward the base), its settings and the trainer, so the healed model has
 * its own recipe hash. A heal resumed with another total or on another trainer lists its stretches (`runs`):
 * their schedules made the weights. Not the recipe `heal` pass (which trains on calibration windows): a recipe
 * runner refuses the step by name rather than silently running a different training.
 */
export function healedRecipe(recipe: NormalizedRecipe, params: HealParams, made: { runs: HealRun[] }): NormalizedRecipe {
  const { checkpointEvery: _every, ...settings } = HealParams.parse(params); // checkpoints do not change the weights
  const trainer = made.runs.length === 1 ? { backend: made.runs[0].backend } : { runs: made.runs };
  const step = {
    pass: 'lab-heal', version: 1,
    params: { ...settings, seed: 0, teacher: 'base', data: 'tinystories, first half', ...trainer },
  };
  return { ...recipe, name: `${recipe.name}+heal`, passes: [...recipe.passes, step as unknown as NormalizedRecipe['passes'][number]] };
}

async function gpuOrNull(want: boolean, student: Model): Promise<GPUDevice | null> {
  if (!want || gpuTrainingUnsupported(student) || !globalThis.navigator?.gpu) return null;
  try {
    return await requestGpuDevice();
  } catch {
    return null; // no adapter: the CPU trainer does the same work
  }
}

/** Train `student` toward `teacher`; checkpoints go to IndexedDB under `key` (the compressed model's recipe hash). */
export async function healModel(
  teacher: Model, student: Model, tokens: number[], key: string, params: HealParams, opts: HealOptions = {},
): Promise<HealResult> {
  const p = HealParams.parse(params);
  if (tokens.length < p.seqLen + 2) throw new Error(`the training text has ${tokens.length} tokens, fewer than one window of ${p.seqLen + 1}`);
  const store = await CheckpointStore.open();
  try {
    const saved = opts.resume ? await store.get(key) : undefined;
    if (saved && saved.step >= p.steps) throw new Error(`the stored checkpoint is at step ${saved.step}: ask for more than ${saved.step} steps to resume`);
    const config = { steps: p.steps, lr: p.lr, seqLen: p.seqLen, batch: p.batch, seed: 0 };
    const device = await gpuOrNull(opts.gpu ?? true, student);
    const earlier = saved ? saved.runs ?? [{ fromStep: 0, steps: null, backend: null }] : [];
    const runs = appendRun(earlier, { fromStep: saved?.step ?? 0, steps: p.steps, backend: device ? 'webgpu' : 'cpu' });
    const resumedFrom = saved?.step ?? null;
    const onCheckpoint = async (bytes: Uint8Array, step: number) => {
      await store.put(key, step, bytes, runs);
      opts.onCheckpoint?.(step);
    };
    if (device) {
      const r = await trainOnGpu(device, student, tokens, {
        ...config, teacher, signal: opts.signal, onProgress: (s) => opts.onStep?.({ ...s, backend: 'webgpu' }),
        checkpointEvery: p.checkpointEvery, onCheckpoint, resume: saved?.bytes,
      });
      return { model: r.model, history: r.history, backend: 'webgpu', resumedFrom, runs };
    }
    const trainer = distillTrainer(teacher, student, windowBatches(tokens, { ...config, bosId: student.config.bosTokenId }), config);
    if (saved) await trainer.restore(saved.bytes);
    await trainer.run({
      signal: opts.signal, onStep: (s) => opts.onStep?.({ ...s, backend: 'cpu' }), checkpointEvery: p.checkpointEvery, onCheckpoint,
    });
    return { model: trainer.toModel(`${student.source.name} healed`), history: trainer.history, backend: 'cpu', resumedFrom, runs };
  } finally {
    store.close();
  }
}
