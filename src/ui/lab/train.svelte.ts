// State of the Lab's "Heal / distill" panel: train the compressed model toward the base in the lab worker,
// the loss of every update kept for the live curve, the last stored checkpoint's step for "Resume". Training
// is the Lab's one operation in flight while it runs (phase 'training'): other actions are disabled, as for
// any long action, since the worker would cancel it to start theirs.
import type { HealStep, TrainBackend } from '../../lab/train';
import type { DataRef } from '../../lab/data';
import type { LabState } from '../lab.svelte';
import { proxy } from '../worker';

export interface LossPoint { step: number; loss: number }

export class TrainState {
  steps = $state(20);
  lr = $state(0.0005); // 0.005 diverges on a q4_0 student (straight-through) within 8 updates
  points = $state<LossPoint[]>([]);
  last = $state<HealStep | null>(null);
  backend = $state<TrainBackend | null>(null);
  /** Step of the checkpoint stored in IndexedDB by this page's last run. */
  checkpointStep = $state<number | null>(null);
  resumedFrom = $state<number | null>(null);

  constructor(private readonly lab: LabState) {}

  get running(): boolean {
    return this.lab.phase === 'training';
  }

  get canTrain(): boolean {
    return this.lab.ready && this.lab.compressed !== null;
  }

  async train(resume = false): Promise<void> {
    if (!this.canTrain) return;
    const keep = resume ? (this.checkpointStep ?? 0) : 0;
    this.points = this.points.filter((p) => p.step <= keep);
    this.last = null; // the bar starts empty, not at the last run's end
    const params = { steps: Math.max(1, Math.floor(Number(this.steps) || 1)), lr: Number(this.lr) || 1e-3 };
    const data = $state.snapshot(this.lab.data) as DataRef;
    const r = await this.lab.run('training', 'Training failed', () => this.lab.api.heal(
      params, data, resume,
      proxy((s: HealStep) => {
        this.last = s;
        this.backend = s.backend;
        this.points.push({ step: s.step, loss: s.loss });
      }),
      proxy((step: number) => (this.checkpointStep = step)),
    ), 'Training cancelled; resume from the last checkpoint.');
    if (!r) return;
    this.backend = r.backend;
    this.resumedFrom = r.resumedFrom;
    this.lab.healed(r.summary);
    // Kept like every recipe result: the healed artifact, under its own recipe hash, in the cache.
    await this.lab.saveToCache('compressed');
    if (this.lab.error) return;
    this.lab.notice = `Healed to step ${r.steps} on ${r.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}${r.resumedFrom !== null ? ` (resumed from step ${r.resumedFrom})` : ''}: the compressed model is now the trained one.`;
  }

  cancel(): void {
    if (this.running) this.lab.cancel();
  }
}
