// LoRA (Hu et al., 2021): the weights stay frozen and low-rank adapters train, W + (alpha/r)·B·A, merged
// back into plain weights on export.
import type { Model } from '../../model/model';
import { seededRandom } from '../../runtime/sampling';
import { isLinearWeight } from '../quant/common';
import { withWeights, type Weights } from './params';
import { sparsityMasks, type Trainable } from './trainable';

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
