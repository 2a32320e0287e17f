// One training update as a progress line, the same on both backends (the CPU Trainer and WebGPU's
// trainOnGpu): the total loss, then only the terms this loss has, in one fixed order. A term the loss leaves
// out (cross-entropy in a KL-only distillation) is absent, never printed as 0.
import type { StepInfo } from './trainer';

const ORDER = ['kl', 'ce', 'mse'];
const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);

/** "kl 0.1234, ce 2.5000": the loss's terms (non-finite values are terms that were not computed). */
export function lossTerms(parts: Readonly<Record<string, number>>): string {
  return Object.entries(parts)
    .filter(([, v]) => Number.isFinite(v))
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
}

/** "loss 0.1234 (kl 0.1234)": the total, then its terms when there are any. */
export function lossText(s: Pick<StepInfo, 'loss' | 'parts'>): string {
  const terms = lossTerms(s.parts);
  return `loss ${s.loss.toFixed(4)}${terms ? ` (${terms})` : ''}`;
}

/** "step  3/30 loss 0.1234 (kl 0.1234) lr 1.00e-3 |g| 0.512 1234 tok/s" (speed when known). */
export function stepLine(s: StepInfo, tokensPerSecond?: number): string {
  return `step ${String(s.step).padStart(String(s.steps).length)}/${s.steps} ${lossText(s)} lr ${s.lr.toExponential(2)}` +
    ` |g| ${s.gradNorm.toFixed(3)}${tokensPerSecond === undefined ? '' : ` ${tokensPerSecond.toFixed(0)} tok/s`}`;
}
