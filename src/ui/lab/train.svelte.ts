// State of the Lab's "Heal / distill" panel: train the compressed model toward the base in the lab worker,
// the loss of every update kept for the live curve, the last stored checkpoint's step for "Resume".
import type { HealStep, TrainBackend } from '../../lab/train';
import type { DataRef } from '../../lab/data';
import type { LabState } from '../lab.svelte';
import { message, proxy } from '../worker';

export interface LossPoint { step: number; loss: number }

export class TrainState {
  steps = $state(20);
  lr = $state(0.0005); // 0.005 diverges on a q4_0 student (straight-through) within 8 updates
  points = $state<LossPoint[]>([]);
  last = $state<HealStep | null>(null);
  running = $state(false);
  backend = $state<TrainBackend | null>(null);
  /** Step of the checkpoint stored in IndexedDB by this page's last run. */
  checkpointStep = $state<number | null>(null);
  resumedFrom = $state<number | null>(null);
  private cancelled = false;

  constructor(private readonly lab: LabState) {}

  get canTrain(): boolean {
    return this.lab.ready && this.lab.compressed !== null && !this.running;
  }

  async train(resume = false): Promise<void> {
    if (!this.canTrain) return;
    this.running = true;
    this.cancelled = false;
    this.lab.error = this.lab.notice = null;
    const keep = resume ? (this.checkpointStep ?? 0) : 0;
    this.points = this.points.filter((p) => p.step <= keep);
    try {
      const r = await this.lab.api.heal(
        { steps: Math.max(1, Math.floor(Number(this.steps) || 1)), lr: Number(this.lr) || 1e-3 },
        $state.snapshot(this.lab.data) as DataRef,
        resume,
        proxy((s: HealStep) => {
          this.last = s;
          this.backend = s.backend;
          this.points.push({ step: s.step, loss: s.loss });
        }),
        proxy((step: number) => (this.checkpointStep = step)),
      );
      this.backend = r.backend;
      this.resumedFrom = r.resumedFrom;
      this.lab.healed(r.summary);
      this.running = false;
      // Kept like every recipe result: the healed artifact, under its own recipe hash, in the cache.
      await this.lab.saveToCache('compressed');
      if (this.lab.error) return;
      this.lab.notice = `Healed to step ${r.steps} on ${r.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}${r.resumedFrom !== null ? ` (resumed from step ${r.resumedFrom})` : ''}: the compressed model is now the trained one.`;
    } catch (e) {
      if (this.cancelled || (e as Error)?.name === 'AbortError') this.lab.notice = 'Training cancelled; resume from the last checkpoint.';
      else this.lab.error = `Training failed: ${message(e)}`;
    } finally {
      this.running = false;
    }
  }

  cancel(): void {
    if (!this.running) return;
    this.cancelled = true;
    void this.lab.api.cancel();
  }
}
