// The training loop: per update, `accumulate` micro-batches of `batch` windows, forward with a tape,
// objective, backward into the trainable's gradients, global-norm clipping, AdamW at the scheduled rate.
// Everything is seeded and ordered, so a run (and a run resumed from a checkpoint) is reproducible bit for bit.
import { z } from 'zod';
import { throwIfAborted } from '../../io/errors';
import type { Model } from '../../model/model';
import type { BatchSource } from './batches';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { backwardModel, forwardModel } from './model-grad';
import type { Objective } from './objective';
import { adamwState, adamwStep, clipGlobalNorm, type AdamWState } from './optimizer';
import { learningRate, Schedule } from './schedule';
import type { Trainable } from './trainable';

export const TrainConfig = z.object({
  steps: z.number().int().positive(),
  lr: z.number().positive().default(1e-3),
  schedule: Schedule.default('cosine'),
  warmup: z.number().int().min(0).default(0),
  minLr: z.number().min(0).default(0),
  weightDecay: z.number().min(0).default(0),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  /** Global gradient-norm clip; 0 = none. */
  clipNorm: z.number().min(0).default(1),
  /** Micro-batches per update (gradient accumulation). */
  accumulate: z.number().int().positive().default(1),
  batch: z.number().int().positive().default(4),
  seqLen: z.number().int().positive().default(128),
  seed: z.number().int().min(0).default(0),
});
export type TrainConfig = z.output<typeof TrainConfig>;

export interface StepInfo {
  step: number;
  steps: number;
  loss: number;
  parts: Record<string, number>;
  lr: number;
  gradNorm: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onStep?: (s: StepInfo) => void;
  /** Called with checkpoint bytes every `checkpointEvery` updates (and after the last). */
  onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
  checkpointEvery?: number;
}

export class Trainer {
  /** Updates done so far. */
  step = 0;
  readonly history: StepInfo[] = [];
  optimizer: AdamWState;

  constructor(
    readonly model: Model,
    readonly trainable: Trainable,
    readonly objective: Objective,
    readonly data: BatchSource,
    readonly config: TrainConfig,
  ) {
    if (config.seqLen > model.config.maxPositions) {
      throw new RangeError(`seqLen ${config.seqLen} exceeds the model's ${model.config.maxPositions} positions`);
    }
    this.optimizer = adamwState(trainable.params);
  }

  get done() {
    return this.step >= this.config.steps;
  }

  /** One optimizer update. */
  trainStep(): StepInfo {
    const c = this.config, mc = this.model.config;
    const { grad, collect } = this.trainable.gradients();
    const windows = c.batch * c.accumulate;
    let loss = 0;
    const parts: Record<string, number> = {};
    for (let micro = 0; micro < c.accumulate; micro++) {
      for (const window of this.data(this.step, micro)) {
        const input = window.slice(0, -1);
        const { logits, tape } = forwardModel(mc, this.trainable.weight, input);
        const r = this.objective(window, { logits, hidden: tape.hidden });
        loss += r.loss / windows;
        for (const [k, v] of Object.entries(r.parts)) parts[k] = (parts[k] ?? 0) + v / windows;
        for (let i = 0; i < r.dlogits.length; i++) r.dlogits[i] /= windows;
        if (r.dhidden) for (let i = 0; i < r.dhidden.length; i++) r.dhidden[i] /= windows;
        backwardModel(mc, this.trainable.weight, tape, r.dlogits, grad, r.dhidden);
      }
    }
    const grads = collect();
    const gradNorm = clipGlobalNorm(grads, c.clipNorm);
    const lr = learningRate(this.step, c);
    adamwStep(this.trainable.params, grads, this.optimizer, lr, c, this.trainable.decays);
    this.trainable.refresh();
    const info = { step: ++this.step, steps: c.steps, loss, parts, lr, gradNorm };
    this.history.push(info);
    return info;
  }

  /** Trains until `steps` updates are done (continuing from a restored checkpoint), yielding between updates. */
  async run(o: RunOptions = {}): Promise<StepInfo[]> {
    while (!this.done) {
      throwIfAborted(o.signal);
      const info = this.trainStep();
      o.onStep?.(info);
      if (o.onCheckpoint && ((o.checkpointEvery && this.step % o.checkpointEvery === 0) || this.done)) {
        await o.onCheckpoint(this.checkpoint(), this.step);
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    return this.history;
  }

  /** The student as a model: merged adapters, quantized tensors re-encoded in their dtype. */
  toModel(name?: string): Model {
    return this.trainable.exportModel(this.model, name);
  }

  checkpoint(): Uint8Array {
    return encodeCheckpoint(this);
  }

  /**
   * Continue from checkpoint bytes written by a trainer set up the same way (same model, trainable and config;
   * only `steps` may differ, to extend a run).
   */
  async restore(bytes: Uint8Array): Promise<void> {
    await decodeCheckpoint(this, bytes);
  }
}
