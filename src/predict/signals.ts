// What the predictor needs of a base model, computed once per (model, calibration, probe) and reused for
// every candidate: the calibration Gram matrices of every linear layer (X^T X, shared with GPTQ and AWQ),
// the base's next-token distributions on a small probe set, and per-layer sensitivity: the probe KLD of
// quantizing one layer's tensors at a reference dtype, against the relative output error that caused it.
import { throwIfAborted } from '../io/errors';
import type { BaseDistribution } from '../eval/kld';
import { klDivergence } from '../eval/kld';
import type { Model } from '../model/model';
import { EMBED, LM_HEAD } from '../model/names';
import { toFloat32 } from '../model/tensor';
import type { LinearStats } from '../passes/calibration';
import type { Calibration, PassContext } from '../passes/pass';
import { castTensor, fitDType, isQuantizable, linearStats, proxyLoss } from '../passes/quant/common';
import { probeDistribution } from '../passes/quant/sensitivity';
import type { DTypeId } from '../model/dtype';
import { CpuRuntime } from '../runtime/cpu-reference';

export interface LayerSensitivity {
  /** "layer 3", "embedding", "output". */
  name: string;
  tensors: string[];
  /** Probe KLD with this group's tensors at the reference dtype, the rest untouched. */
  kld: number;
  /** Sum over the group of relative output errors at the reference dtype. */
  relError: number;
}

export interface BaseSignals {
  model: Model;
  calibration: Calibration;
  stats: Map<string, LinearStats>;
  probe: BaseDistribution;
  /** tr(W H W^T) per linear (||W||^2 without a Hessian): what makes a tensor's error relative. */
  scale: Map<string, number>;
  groups: LayerSensitivity[];
  reference: DTypeId;
  seconds: number;
}

const LAYER = /^model\.layers\.(\d+)\./;

/** The quantizable tensors of a model, grouped: each decoder layer, the embedding, the output projection. */
export function tensorGroups(model: Model): { name: string; tensors: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const [name, t] of model.tensors) {
    if (!isQuantizable(name) || t.shape.length !== 2) continue;
    const key = LAYER.exec(name)?.[1] !== undefined ? `layer ${LAYER.exec(name)![1]}` : name === EMBED ? 'embedding' : name === LM_HEAD ? 'output' : name;
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  return [...groups].map(([name, tensors]) => ({ name, tensors }));
}

/** Squared output error tr(E H E^T) of a linear over the calibration rows, or the squared weight error without H. */
export function tensorError(W: Float32Array, Q: Float32Array, shape: readonly number[], H?: Float64Array): number {
  if (H) return proxyLoss(W, Q, H, shape[0], shape[1]);
  let s = 0;
  for (let i = 0; i < W.length; i++) s += (W[i] - Q[i]) ** 2;
  return s;
}

export async function prepareBase(
  model: Model, calibration: Calibration, probeSet: Calibration,
  opts: Pick<PassContext, 'signal' | 'onProgress'> & { reference?: DTypeId } = {},
): Promise<BaseSignals> {
  const t0 = performance.now();
  const reference = opts.reference ?? 'int3_g32';
  const stats = await linearStats(model, calibration, opts);
  const probe = await probeDistribution(model, probeSet, opts);
  const scale = new Map<string, number>();
  const groups = tensorGroups(model);
  for (const g of groups) {
    for (const name of g.tensors) {
      const W = toFloat32(model.tensors.get(name)!);
      scale.set(name, tensorError(W, new Float32Array(W.length), model.tensors.get(name)!.shape, stats.get(name)?.hessian));
    }
  }
  const out: LayerSensitivity[] = [];
  for (const [i, g] of groups.entries()) {
    throwIfAborted(opts.signal);
    const tensors = new Map(model.tensors);
    let relError = 0;
    for (const name of g.tensors) {
      const t = model.tensors.get(name)!;
      const q = castTensor(t, fitDType(reference, t.shape[1]));
      tensors.set(name, q);
      relError += tensorError(toFloat32(t), toFloat32(q), t.shape, stats.get(name)?.hessian) / scale.get(name)!;
    }
    const rt = new CpuRuntime({ ...model, tensors }, { maxPositions: probe.contextLength });
    const { kldMean } = await klDivergence(rt, probe, { signal: opts.signal });
    out.push({ ...g, kld: kldMean, relError });
    opts.onProgress?.({ stage: 'layer sensitivity', done: i + 1, total: groups.length });
  }
  return { model, calibration, stats, probe, scale, groups: out, reference, seconds: (performance.now() - t0) / 1000 };
}
