// Linear merge (model soups, Wortsman et al. 2022): a weighted average of every input, base included when it
// carries a weight. `normalize` (default true) divides by the sum of the weights, as mergekit does.
import { bool, defineMethod, num } from './method';

export function linearMerge(tensors: readonly Float32Array[], weights: readonly number[], normalize: boolean): Float32Array {
  const n = tensors[0].length;
  const out = new Float32Array(n);
  const total = weights.reduce((a, b) => a + b, 0);
  if (normalize && total === 0) throw new Error('linear merge: the weights sum to 0, so they cannot be normalized (set normalize: false)');
  const scale = normalize ? 1 / total : 1;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < tensors.length; k++) s += weights[k] * tensors[k][i];
    out[i] = s * scale;
  }
  return out;
}

export const linearMethod = defineMethod({
  id: 'linear',
  summary: 'Weighted average of the inputs (normalized by the weight sum unless normalize: false)',
  reference: 'https://arxiv.org/abs/2203.05482',
  needsBase: false,
  params: [{ name: 'normalize', default: true }],
  tensorParams: [{ name: 'weight', required: true }],
  merge({ inputs, params, tensor }) {
    const weights = inputs.map((x) => num(x.params.weight, 'weight', `${tensor} (${x.model})`));
    return linearMerge(inputs.map((x) => x.values), weights, bool(params.normalize, 'normalize', tensor));
  },
});
