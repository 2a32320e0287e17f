// AdamW (Loshchilov & Hutter): Adam with bias correction and decoupled weight decay, over named f32 arrays.
// State is plain arrays so a checkpoint can carry it and a resumed run continues bit for bit.
import type { Weights } from './params';

export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWState {
  /** Updates applied so far (the t of the bias correction). */
  t: number;
  m: Weights;
  v: Weights;
}

export function adamwState(params: Weights): AdamWState {
  const zeros = () => new Map([...params].map(([n, p]) => [n, new Float32Array(p.length)]));
  return { t: 0, m: zeros(), v: zeros() };
}

/**
 * One update of every parameter that has a gradient. Weight decay applies only where `decays(name)` (by
 * convention matrices, not norms or biases): p -= lr·(m̂/(√v̂ + eps) + wd·p).
 */
export function adamwStep(
  params: Weights, grads: Weights, state: AdamWState, lr: number, h: AdamWHyper, decays: (name: string) => boolean,
): void {
  state.t++;
  const c1 = 1 - h.beta1 ** state.t, c2 = 1 - h.beta2 ** state.t;
  for (const [name, p] of params) {
    const g = grads.get(name);
    if (!g) continue;
    const m = state.m.get(name)!, v = state.v.get(name)!;
    const wd = decays(name) ? h.weightDecay : 0;
    for (let i = 0; i < p.length; i++) {
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
      p[i] -= lr * (m[i] / c1 / (Math.sqrt(v[i] / c2) + h.eps) + wd * p[i]);
    }
  }
}

/** Scales the gradients in place so their global L2 norm is at most maxNorm (0 = no clipping); returns the norm before. */
export function clipGlobalNorm(grads: Weights, maxNorm: number): number {
  let ss = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / norm;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= s;
  }
  return norm;
}
