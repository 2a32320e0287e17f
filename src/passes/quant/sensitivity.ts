// Per-tensor sensitivity: how far the model's next-token distribution moves (KL divergence from the base, on a
// small probe set) when only one tensor is quantized to one dtype. The mixed-precision allocator spends bytes
// where this is high. Measuring every (tensor, dtype) pair costs one probe run each; extrapolatedSensitivity
// measures one dtype per tensor and scales it to the others by the tensor's proxy loss (squared output error
// for linears, squared weight error for the embedding): to second order the KLD is a quadratic form in the
// weight error, so it grows in proportion to such squared errors.
import { cancelPoint } from '../cancel-point';
import { byteSize, type DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import { numel, toFloat32, type Tensor } from '../../model/tensor';
import { baseDistribution, klDivergence, type BaseDistribution } from '../../eval/kld';
import { CpuRuntime } from '../../runtime/cpu-reference';
import type { Calibration, PassContext } from '../pass';
import { proxyLoss } from './common';

export interface SensitivityEntry {
  tensor: string;
  dtype: DTypeId;
  bytes: number;
  /** Mean KL(base || model with only this tensor quantized) over the probe tokens. */
  kld: number;
  kldStderr: number;
  /** 'measured' on the probe, or 'extrapolated' from a measured dtype of the same tensor. */
  source: 'measured' | 'extrapolated';
}

/** The base model's distributions on probe sequences (each sequence one chunk, its second half scored). */
export async function probeDistribution(model: Model, probe: Calibration, ctx: PassContext = {}): Promise<BaseDistribution> {
  const length = probe.sequences[0].length;
  if (probe.sequences.some((s) => s.length !== length)) throw new Error('probe sequences must have equal length');
  const rt = new CpuRuntime(model, { maxPositions: length });
  return baseDistribution(rt, probe.sequences.flat(), { contextLength: length, bosId: model.config.bosTokenId, signal: ctx.signal });
}

export type TensorQuantizer = (t: Tensor, dtype: DTypeId) => Tensor;

/** KLD of the model with `tensor` replaced by `quantize(tensor, dtype)`, for every requested pair. */
export async function measureSensitivity(
  model: Model, pairs: readonly { tensor: string; dtype: DTypeId }[], probe: BaseDistribution, quantize: TensorQuantizer, ctx: PassContext = {},
): Promise<SensitivityEntry[]> {
  const out: SensitivityEntry[] = [];
  for (const [i, { tensor, dtype }] of pairs.entries()) {
    await cancelPoint(ctx.signal);
    const t = model.tensors.get(tensor);
    if (!t) throw new Error(`sensitivity: no tensor ${tensor}`);
    const tensors = new Map(model.tensors).set(tensor, quantize(t, dtype));
    const rt = new CpuRuntime({ ...model, tensors }, { maxPositions: probe.contextLength });
    const r = await klDivergence(rt, probe, { signal: ctx.signal });
    out.push({ tensor, dtype, bytes: byteSize(dtype, numel(t.shape)), kld: r.kldMean, kldStderr: r.kldStderr, source: 'measured' });
    ctx.onProgress?.({ stage: 'sensitivity', done: i + 1, total: pairs.length });
  }
  return out;
}

/**
 * Measure each tensor at the first of its dtypes only and extrapolate to the others:
 * kld(d) = kld(first) * e(d) / e(first), with e the output error tr(E H E^T) when a Hessian is known, else the
 * squared weight error. Put the coarsest dtype first: its effect stands furthest above the probe's noise.
 */
export async function extrapolatedSensitivity(
  model: Model, dtypes: ReadonlyMap<string, readonly DTypeId[]>, probe: BaseDistribution, quantize: TensorQuantizer,
  hessian: (tensor: string) => Float64Array | undefined, ctx: PassContext = {},
): Promise<SensitivityEntry[]> {
  const measured = await measureSensitivity(model, [...dtypes].map(([tensor, ds]) => ({ tensor, dtype: ds[0] })), probe, quantize, ctx);
  const out: SensitivityEntry[] = [];
  for (const m of measured) {
    const t = model.tensors.get(m.tensor)!;
    const W = toFloat32(t), H = hessian(m.tensor), [rows, cols] = t.shape;
    const error = (dtype: DTypeId) => {
      const Q = toFloat32(quantize(t, dtype));
      if (H) return proxyLoss(W, Q, H, rows, cols);
      let s = 0;
      for (let i = 0; i < W.length; i++) s += (W[i] - Q[i]) ** 2;
      return s;
    };
    const e0 = error(m.dtype);
    out.push(m);
    for (const dtype of dtypes.get(m.tensor)!.slice(1)) {
      const ratio = e0 > 0 ? error(dtype) / e0 : 0;
      out.push({ ...m, dtype, bytes: byteSize(dtype, numel(t.shape)), kld: m.kld * ratio, kldStderr: m.kldStderr * ratio, source: 'extrapolated' });
    }
  }
  return out;
}
