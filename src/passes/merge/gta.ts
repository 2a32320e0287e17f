// Generalized task arithmetic, mergekit's one engine behind task_arithmetic, TIES and DARE: take each
// model's task vector (its difference to base_model), optionally sparsify it, weight it, optionally keep
// only the entries that agree with the elected sign, sum, optionally normalize by the weights that
// contributed, scale by lambda, and add back to the base.
import { bernoulliSparsify, magnitudeSparsify } from './sparsify';
import { bool, defineMethod, num, type MergeMethod, type ParamDef } from './method';

export type Consensus = 'sum' | 'count';
export type Sparsification = 'magnitude' | 'random';

export interface TaskVector {
  readonly delta: Float32Array;
  readonly weight: number;
  readonly density: number;
  /** For random (DARE) sparsification. */
  readonly random?: () => number;
}

export interface GtaOptions {
  readonly consensus?: Consensus;
  readonly sparsification?: Sparsification;
  readonly normalize: boolean;
  readonly rescale: boolean;
  readonly lambda: number;
}

/**
 * TIES sign election per entry: the sign of the summed weighted deltas ('sum', the paper's rule) or of the
 * summed signs ('count'); ties go to +1, as in mergekit's get_mask.
 */
export function electSign(weighted: readonly Float32Array[], method: Consensus): Int8Array {
  const n = weighted[0].length;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const w of weighted) s += method === 'sum' ? w[i] : Math.sign(w[i]);
    out[i] = s >= 0 ? 1 : -1;
  }
  return out;
}

export function sparsify(tv: TaskVector, method: Sparsification, rescale: boolean): Float32Array {
  if (method === 'magnitude') return magnitudeSparsify(tv.delta, tv.density, rescale);
  if (!tv.random) throw new Error('random sparsification needs a seeded generator');
  return bernoulliSparsify(tv.delta, tv.density, rescale, tv.random);
}

export function generalizedTaskArithmetic(base: Float32Array, tvs: readonly TaskVector[], o: GtaOptions): Float32Array {
  if (tvs.length === 0) return base;
  const n = base.length;
  const weighted = tvs.map((tv) => {
    const d = o.sparsification ? sparsify(tv, o.sparsification, o.rescale) : tv.delta;
    return d.map((x) => x * tv.weight);
  });
  const sign = o.consensus ? electSign(weighted, o.consensus) : undefined;
  const weightSum = tvs.reduce((s, tv) => s + tv.weight, 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let mixed = 0, divisor = 0;
    for (let k = 0; k < tvs.length; k++) {
      const w = weighted[k][i];
      if (sign && Math.sign(w) !== sign[i]) continue; // disjoint merge: only entries agreeing with the elected sign
      mixed += w;
      divisor += tvs[k].weight;
    }
    // normalize by the weights that voted with the sign (TIES) or by all weights; mergekit's guards against 0
    if (o.normalize) mixed /= sign ? divisor || 1 : Math.abs(weightSum) < 1e-8 ? 1 : weightSum;
    out[i] = base[i] + mixed * o.lambda;
  }
  return out;
}

/** A mergekit GTA method: its name and which of the steps it turns on, with their defaults. */
export function gtaMethod(spec: {
  id: string; summary: string; reference: string; consensus?: Consensus; sparsification?: Sparsification;
  normalize: boolean; rescale: boolean;
}): MergeMethod {
  const params: ParamDef[] = [
    { name: 'normalize', default: spec.normalize }, { name: 'rescale', default: spec.rescale },
    { name: 'lambda', default: 1 }, { name: 'int8_mask', default: false }, // int8_mask only saves memory in mergekit
  ];
  return defineMethod({
    id: spec.id, summary: spec.summary, reference: spec.reference, needsBase: true, params,
    tensorParams: [{ name: 'weight', required: true }, { name: 'density', default: 1 }],
    merge({ inputs, baseIndex, params: p, random, tensor }) {
      if (baseIndex < 0) throw new Error(`${tensor}: ${spec.id} needs base_model among its inputs`);
      const base = inputs[baseIndex].values;
      const tvs = inputs.filter((_, k) => k !== baseIndex).map((x): TaskVector => {
        const where = `${tensor} (${x.model})`;
        const density = num(x.params.density, 'density', where);
        if (!(density > 0 && density <= 1)) throw new Error(`${where}: density must be in (0, 1], got ${density}`);
        return { delta: x.values.map((v, i) => v - base[i]), weight: num(x.params.weight, 'weight', where), density, random: random(x.model) };
      });
      return generalizedTaskArithmetic(base, tvs, {
        consensus: spec.consensus, sparsification: spec.sparsification,
        normalize: bool(p.normalize, 'normalize', tensor), rescale: bool(p.rescale, 'rescale', tensor), lambda: num(p.lambda, 'lambda', tensor),
      });
    },
  });
}
