// Spherical linear interpolation between base_model (t = 0) and the one other model (t = 1), over each tensor
// flattened to one vector, exactly as mergekit's slerp(): directions from the normalized vectors, the
// un-normalized vectors mixed, and plain lerp when the two are (anti)colinear, where the angle is unstable.
import { defineMethod, num } from './method';

export const DOT_THRESHOLD = 0.9995;
export const SLERP_EPS = 1e-8;

export function lerp(t: number, v0: Float32Array, v1: Float32Array): Float32Array {
  const out = new Float32Array(v0.length);
  for (let i = 0; i < v0.length; i++) out[i] = (1 - t) * v0[i] + t * v1[i];
  return out;
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

export function slerp(t: number, v0: Float32Array, v1: Float32Array, threshold = DOT_THRESHOLD, eps = SLERP_EPS): Float32Array {
  if (v0.length !== v1.length) throw new Error(`slerp: vectors of length ${v0.length} and ${v1.length}`);
  // mergekit divides by the norm only when it exceeds eps (a zero vector stays zero)
  const n0 = norm(v0), n1 = norm(v1);
  const s0n = n0 > eps ? 1 / n0 : 1, s1n = n1 > eps ? 1 / n1 : 1;
  let dot = 0;
  for (let i = 0; i < v0.length; i++) dot += v0[i] * s0n * (v1[i] * s1n);
  if (Math.abs(dot) > threshold) return lerp(t, v0, v1);
  const theta0 = Math.acos(dot);
  const sinTheta0 = Math.sin(theta0);
  const thetaT = theta0 * t;
  const s0 = Math.sin(theta0 - thetaT) / sinTheta0;
  const s1 = Math.sin(thetaT) / sinTheta0;
  const out = new Float32Array(v0.length);
  for (let i = 0; i < v0.length; i++) out[i] = s0 * v0[i] + s1 * v1[i];
  return out;
}

export const slerpMethod = defineMethod({
  id: 'slerp',
  summary: 'Spherical interpolation from base_model (t = 0) to the other model (t = 1), lerp when colinear',
  reference: 'https://en.wikipedia.org/wiki/Slerp',
  needsBase: true,
  params: [{ name: 't', required: true }],
  tensorParams: [],
  merge({ inputs, baseIndex, params, tensor }) {
    if (inputs.length === 1) return inputs[0].values;
    if (inputs.length !== 2) throw new Error(`${tensor}: slerp merges exactly two models, got ${inputs.length}`);
    if (baseIndex < 0) throw new Error(`${tensor}: slerp needs base_model to be one of its two models`);
    return slerp(num(params.t, 't', tensor), inputs[baseIndex].values, inputs[1 - baseIndex].values);
  },
});
