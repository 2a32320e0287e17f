// What the optimizer updates and what the forward multiplies by. Plain training updates the f32 masters
// themselves; on top of that a pruned student keeps its zeros (mask re-applied after every update), and a
// quantized student trains its masters through a straight-through estimator: the forward sees
// decode(encode(master)) in the student's own dtype and the gradient passes to the master unchanged.
// LoRA freezes the weights and trains low-rank adapters W + (alpha/r)·B·A, merged back on export.
import { DTYPES, encode, type DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import { isLinearWeight } from '../quant/common';
import { seededRandom } from '../../runtime/sampling';
import type { GradFn, WeightFn } from './model-grad';
import { withWeights, type Weights } from './params';
import { makeTensor } from '../../model/tensor';

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
function sparsityMasks(weights: Weights, skip?: ReadonlyMap<string, unknown>): Map<string, Uint8Array> {
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
    exportModel(base, name) {
      const m = withWeights(base, new Map([...masters].filter(([n]) => !quantized.has(n))), name);
      const tensors = new Map(m.tensors);
      for (const [n, dtype] of o.fakeQuant ?? []) {
        const t = base.tensors.get(n)!;
        tensors.set(n, makeTensor(n, t.shape, dtype, encode(dtype, masters.get(n)!)));
      }
      return { ...m, tensors };
    },
    decays: (n) => isLinearWeight(n),
    describe: () => ({
      kind: 'full', params: [...params.values()].reduce((s, w) => s + w.length, 0), maskedZeros: sparse,
      fakeQuant: [...(o.fakeQuant ?? new Map()).values()].reduce<Record<string, number>>((acc, d) => ({ ...acc, [d]: (acc[d] ?? 0) + 1 }), {}),
    }),
  };
}

export interface LoraOptions {
  rank: number;
  alpha: number;
  /** Layer tensor suffixes that get adapters, e.g. ['self_attn.q_proj.weight', 'self_attn.v_proj.weight']. */
  targets: readonly string[];
  seed: number;
  /** Pruned zeros of a target stay zero: the merged weight is (W + s·B·A) ⊙ mask, in training and on export. */
  keepSparsity?: boolean;
}

const loraA = (n: string) => `${n}.lora_A`;
const loraB = (n: string) => `${n}.lora_B`;

/**
 * LoRA (Hu et al., 2021) on the chosen projections: A [r, in] random (Kaiming-uniform bound 1/√in),
 * B [out, r] zero, so training starts from the model itself. W_eff = W + (alpha/r)·B·A. The full dW of a
 * target is formed (cheap at this scale) and projected: dA = s·Bᵀ·dW, dB = s·dW·Aᵀ (dW masked first when
 * sparsity is kept).
 */
export function loraTrainable(model: Model, masters: Weights, o: LoraOptions): Trainable {
  if (!(Number.isInteger(o.rank) && o.rank >= 1)) throw new RangeError(`LoRA rank ${o.rank} must be a positive integer`);
  const r = o.rank, s = o.alpha / o.rank;
  const targets = [...masters.keys()].filter((n) => isLinearWeight(n) && o.targets.some((t) => n.endsWith(t)));
  if (targets.length === 0) throw new Error(`LoRA: no linear weight matches targets ${o.targets.join(', ')}`);
  const shape = (n: string) => model.tensors.get(n)!.shape as [number, number];
  const rand = seededRandom(o.seed);
  const params: Weights = new Map();
  for (const n of targets) {
    const [out, inDim] = shape(n);
    if (r > Math.min(out, inDim)) throw new RangeError(`LoRA rank ${r} exceeds ${n} [${out}, ${inDim}]`);
    const bound = 1 / Math.sqrt(inDim);
    params.set(loraA(n), Float32Array.from({ length: r * inDim }, () => (rand() * 2 - 1) * bound));
    params.set(loraB(n), new Float32Array(out * r));
  }
  const masks = o.keepSparsity ? sparsityMasks(new Map(targets.map((n) => [n, masters.get(n)!]))) : new Map<string, Uint8Array>();
  const effective = new Map<string, Float32Array>();
  const refresh = () => {
    for (const n of targets) {
      const [out, inDim] = shape(n);
      const A = params.get(loraA(n))!, B = params.get(loraB(n))!, W = masters.get(n)!;
      const E = W.slice();
      for (let i = 0; i < out; i++) {
        for (let k = 0; k < r; k++) {
          const b = s * B[i * r + k];
          if (b === 0) continue;
          for (let j = 0; j < inDim; j++) E[i * inDim + j] += b * A[k * inDim + j];
        }
      }
      const m = masks.get(n);
      if (m) for (let i = 0; i < E.length; i++) if (!m[i]) E[i] = 0;
      effective.set(n, E);
    }
  };
  refresh();
  return {
    params,
    weight: (n) => effective.get(n) ?? masters.get(n),
    gradients() {
      const full = new Map(targets.map((n) => [n, new Float32Array(masters.get(n)!.length)]));
      return {
        grad: (n) => full.get(n),
        collect: () => {
          const grads: Weights = new Map();
          for (const n of targets) {
            const [out, inDim] = shape(n);
            const dW = full.get(n)!, A = params.get(loraA(n))!, B = params.get(loraB(n))!;
            const m = masks.get(n);
            if (m) for (let i = 0; i < dW.length; i++) if (!m[i]) dW[i] = 0;
            const dA = new Float32Array(r * inDim), dB = new Float32Array(out * r);
            for (let i = 0; i < out; i++) {
              for (let k = 0; k < r; k++) {
                const b = s * B[i * r + k];
                let acc = 0;
                for (let j = 0; j < inDim; j++) {
                  const g = dW[i * inDim + j];
                  dA[k * inDim + j] += b * g;
                  acc += g * A[k * inDim + j];
                }
                dB[i * r + k] = s * acc;
              }
            }
            grads.set(loraA(n), dA);
            grads.set(loraB(n), dB);
          }
          return grads;
        },
      };
    },
    refresh,
    exportModel: (base, name) => withWeights(base, new Map([...masters].map(([n, w]) => [n, effective.get(n) ?? w])), name),
    decays: () => false,
    describe: () => ({ kind: 'lora', rank: r, alpha: o.alpha, targets, maskedTargets: masks.size, params: [...params.values()].reduce((a, w) => a + w.length, 0) }),
  };
}
