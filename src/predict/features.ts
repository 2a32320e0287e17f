// The cheap signals of one candidate, measured against its base (see signals.ts):
//   weightErr  sum of squared weight errors over all quantizable tensors, relative to the weights' own
//   outErr     sum over tensors of relative output error tr(E H E^T) / tr(W H W^T) on the calibration Gram
//   sensKld    per-layer sensitivity times each layer's relative output error against the reference dtype's
//              (the first-order additive KLD model the mixed-precision allocator also relies on)
//   probeKld   measured KL(base || candidate) on the small probe set, and probeTop1 (only with probe: true)
// A tensor whose shape changed (structured pruning) counts as fully perturbed: relative error 1.
// The weight-space features compare tensors name by name, so a pass that reparametrises the model (AWQ
// folds its scales into the norms and weights) looks far worse to them than it is; the probe KLD measures
// the function itself, which is why the default predictor (PROBE_FEATURES) leads with it.
import { klDivergence } from '../eval/kld';
import { throwIfAborted } from '../io/errors';
import type { Model } from '../model/model';
import { numel, toFloat32 } from '../model/tensor';
import { CpuRuntime } from '../runtime/cpu-reference';
import { tensorError, type BaseSignals } from './signals';

export type Features = Record<string, number>;

/** The features computed without running the candidate (fidelity 0) and the ones that need a probe forward (fidelity 1). */
export const STATIC_FEATURES = ['outErr'] as const;
export const PROBE_FEATURES = ['probeKld', 'sensKld'] as const;

export async function candidateFeatures(base: BaseSignals, candidate: Model, opts: { probe?: boolean; signal?: AbortSignal } = {}): Promise<Features> {
  let weightErr = 0, weightNorm = 0, outErr = 0, sensKld = 0, bytes = 0, weights = 0;
  for (const g of base.groups) {
    let rel = 0;
    for (const name of g.tensors) {
      throwIfAborted(opts.signal);
      const t = base.model.tensors.get(name)!, c = candidate.tensors.get(name);
      const W = toFloat32(t);
      let norm = 0;
      for (let i = 0; i < W.length; i++) norm += W[i] * W[i];
      weightNorm += norm;
      if (c) {
        bytes += c.data.byteLength;
        weights += numel(c.shape);
      }
      if (c === t) continue; // untouched: no error
      if (!c || c.shape.join() !== t.shape.join()) {
        weightErr += norm;
        rel += 1;
        continue;
      }
      const Q = toFloat32(c);
      let we = 0;
      for (let i = 0; i < W.length; i++) we += (W[i] - Q[i]) ** 2;
      weightErr += we;
      const H = base.stats.get(name)?.hessian;
      rel += (H ? tensorError(W, Q, t.shape, H) : we) / base.scale.get(name)!;
    }
    outErr += rel;
    if (g.relError > 0) sensKld += (g.kld * rel) / g.relError;
  }
  const f: Features = { weightErr: weightErr / weightNorm, outErr, sensKld, bitsPerWeight: weights ? (8 * bytes) / weights : 0 };
  if (opts.probe) {
    const rt = new CpuRuntime(candidate, { maxPositions: base.probe.contextLength });
    const k = await klDivergence(rt, base.probe, { signal: opts.signal });
    f.probeKld = k.kldMean;
    f.probeTop1 = k.top1;
  }
  return f;
}
