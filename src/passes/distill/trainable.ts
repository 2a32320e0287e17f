// What the optimizer updates and what the forward multiplies by. Plain training updates the f32 masters
// themselves; on top of that a pruned student keeps its zeros (mask re-applied after every update), and a
// quantized student trains its masters through a straight-through estimator: the forward sees
// decode(encode(master)) in the student's own dtype and the gradient passes to the master unchanged.
// LoRA (lora.ts) is the other Trainable: frozen weights, low-rank adapters.
import { DTYPES, encode, type DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import { isLinearWeight } from '../quant/common';
import type { GradFn, WeightFn } from './model-grad';
import { withTrainedWeights, type Weights } from './params';

export interface Trainable {
  /** The arrays the optimizer updates, by name (weights, or lora.A/lora.B adapters). */
  readonly params: Weights;
  /** The weights the forward uses. */
  readonly weight: WeightFn;
  /** A fresh gradient accumulator: `grad` for backwardModel, `collect` for the optimizer (grads per param). */
  gradients(): { grad: GradFn; collect(): Weights };
  /** After each optimizer update: re-apply masks, re-quantize, rebuild merged adapters. */
  refresh(): void;
  /** The trained model: f32 weights, adapters merged, fake-quantized tensors stored in their dtype. */
  exportModel(base: Model, name?: string): Model;
  /** Matrices decay, norms and biases do not. */
  decays(name: string): boolean;
  describe(): Record<string, unknown>;
}

/** Fake quantization: what the student's weights are after a round trip through `dtype`. */
export function fakeQuantize(values: Float32Array, dtype: DTypeId): Float32Array {
  const out = new Float32Array(values.length);
  DTYPES[dtype].decode(encode(dtype, values), out, values.length);
  return out;
}

function zeroFraction(w: Float32Array): number {
  let z = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) z++;
  return z / w.length;
}

/**
 * 1 where a weight may train, 0 where it was pruned: for linear f32 tensors with at least 1% exact zeros
 * (a quantized tensor's zeros are grid points, not pruned weights; a dense one may hold a stray exact zero).
 */
export function sparsityMasks(weights: Weights, skip?: ReadonlyMap<string, unknown>): Map<string, Uint8Array> {
  const masks = new Map<string, Uint8Array>();
  for (const [n, w] of weights) {
    if (!isLinearWeight(n) || skip?.has(n) || zeroFraction(w) < 0.01) continue;
    masks.set(n, Uint8Array.from(w, (v) => (v === 0 ? 0 : 1)));
  }
  return masks;
}

export interface FullOptions {
  /** Which weights train (default: all). */
  trainable?: (name: string) => boolean;
  /** Weights that are exactly zero stay zero (a pruned student keeps its sparsity): linear f32 tensors with >= 1% zeros. */
  keepSparsity?: boolean;
  /** Name -> dtype the forward fake-quantizes through (straight-through estimator). */
  fakeQuant?: ReadonlyMap<string, DTypeId>;
}

export function fullTrainable(masters: Weights, o: FullOptions = {}): Trainable {
  const isTrainable = o.trainable ?? (() => true);
  const params: Weights = new Map([...masters].filter(([n]) => isTrainable(n)));
  const masks = o.keepSparsity ? sparsityMasks(params, o.fakeQuant) : new Map<string, Uint8Array>();
  const quantized = new Map<string, Float32Array>();
  const refresh = () => {
    for (const [n, m] of masks) {
      const w = params.get(n)!;
      for (let i = 0; i < w.length; i++) if (!m[i]) w[i] = 0;
    }
    for (const [n, dtype] of o.fakeQuant ?? []) quantized.set(n, fakeQuantize(masters.get(n)!, dtype));
  };
  refresh();
  const sparse = [...masks.values()].reduce((s, m) => s + m.length - m.reduce((a, b) => a + b, 0), 0);
  return {
    params,
    weight: (n) => quantized.get(n) ?? masters.get(n),
    gradients() {
      const grads: Weights = new Map();
      return {
        grad: (n) => {
          if (!params.has(n)) return undefined;
          let g = grads.get(n);
          if (!g) grads.set(n, (g = new Float32Array(params.get(n)!.length)));
          return g;
        },
        collect: () => {
          for (const [n, m] of masks) {
            const g = grads.get(n);
            if (g) for (let i = 0; i < g.length; i++) if (!m[i]) g[i] = 0;
          }
          return grads;
        },
      };
    },
    refresh,
    exportModel: (base, name) => withTrainedWeights(base, masters, o.fakeQuant ?? new Map(), name),
    decays: (n) => isLinearWeight(n),
    describe: () => ({
      kind: 'full', params: [...params.values()].reduce((s, w) => s + w.length, 0), maskedZeros: sparse,
      fakeQuant: [...(o.fakeQuant ?? new Map()).values()].reduce<Record<string, number>>((acc, d) => ({ ...acc, [d]: (acc[d] ?? 0) + 1 }), {}),
    }),
  };
}
