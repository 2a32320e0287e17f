// Learning-rate schedules: linear warmup, then constant, linear or cosine decay to minLr at the last step.
import { z } from 'zod';

export const Schedule = z.enum(['constant', 'linear', 'cosine']);
export type Schedule = z.infer<typeof Schedule>;

/** Learning rate of update `step` (0-based) out of `steps`. */
export function learningRate(
  step: number, o: { lr: number; steps: number; warmup: number; schedule: Schedule; minLr: number },
): number {
  if (step < o.warmup) return (o.lr * (step + 1)) / o.warmup;
  if (o.schedule === 'constant') return o.lr;
  const span = Math.max(1, o.steps - 1 - o.warmup);
  const progress = Math.min(1, (step - o.warmup) / span);
  const shape = o.schedule === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return o.minLr + (o.lr - o.minLr) * shape;
}
