// Mixed precision under a byte budget: measure how sensitive each tensor is to each candidate dtype (KLD from
// the base on a probe set), choose one dtype per tensor minimising the summed sensitivity subject to the
// bytes, report the plan, and apply it with a chosen quantization method (the plan becomes its overrides).
// The choice is the classic greedy on each tensor's lower convex hull of (bytes, cost): repeatedly take the
// upgrade with the largest cost reduction per extra byte that still fits, which is the Lagrangian solution
// at every budget the hull reaches; a final pass spends leftover bytes on any option that still fits.
import { z } from 'zod';
import { byteSize, type DTypeId } from '../../model/dtype';
import { modelBytes, type Model } from '../../model/model';
import { EMBED, LM_HEAD } from '../../model/names';
import { numel } from '../../model/tensor';
import { definePass, type Calibration, type PassContext } from '../pass';
import { awq, AwqParams } from './awq';
import { castTensor, clippedTensor, DTypeParam, fitDType, gridFormat, isLinearWeight, linearStats } from './common';
import { gptq, GptqParams, gptqTensor } from './gptq';
import { hqq, HqqParams, hqqTensor } from './hqq';
import { rtn } from './rtn';
import { extrapolatedSensitivity, measureSensitivity, probeDistribution, type SensitivityEntry, type TensorQuantizer } from './sensitivity';

export interface PlanOption { dtype: DTypeId; bytes: number; cost: number }
export interface PlanRow extends PlanOption { tensor: string }
export interface MixedPlan {
  rows: PlanRow[];
  /** Bytes of the whole model under the plan (tensors outside the plan at their current size). */
  bytes: number;
  budget: number;
  /** Sum of the chosen options' costs (predicted KLD, additive to first order). */
  predictedCost: number;
}

/** Keep the options on the lower convex hull of cost against bytes (cheapest first). */
function hull(options: PlanOption[]): PlanOption[] {
  const sorted = [...options].sort((a, b) => a.bytes - b.bytes || a.cost - b.cost);
  const h: PlanOption[] = [];
  for (const o of sorted) {
    if (h.length && o.cost >= h[h.length - 1].cost) continue; // more bytes, no better: dominated
    // drop the last point while it lies on or above the segment from its predecessor to o
    while (h.length >= 2) {
      const a = h[h.length - 2], b = h[h.length - 1];
      if ((b.cost - a.cost) * (o.bytes - a.bytes) >= (o.cost - a.cost) * (b.bytes - a.bytes)) h.pop();
      else break;
    }
    h.push(o);
  }
  return h;
}

/** Choose one option per tensor so that fixed + chosen bytes <= budget and the summed cost is small. */
export function allocate(options: ReadonlyMap<string, PlanOption[]>, fixedBytes: number, budget: number): MixedPlan {
  const names = [...options.keys()];
  const hulls = names.map((n) => hull(options.get(n)!));
  const at = hulls.map(() => 0);
  let bytes = fixedBytes + hulls.reduce((s, h) => s + h[0].bytes, 0);
  if (bytes > budget) throw new Error(`budget ${budget} B is below the smallest plan (${bytes} B with every tensor at its cheapest candidate)`);
  const stuck = new Set<number>();
  for (;;) {
    let best = -1, bestGain = 0;
    for (let i = 0; i < names.length; i++) {
      const h = hulls[i], k = at[i];
      if (stuck.has(i) || k + 1 >= h.length) continue;
      const gain = (h[k].cost - h[k + 1].cost) / (h[k + 1].bytes - h[k].bytes);
      if (gain > bestGain) { best = i; bestGain = gain; }
    }
    if (best < 0) break;
    const h = hulls[best], extra = h[at[best] + 1].bytes - h[at[best]].bytes;
    if (bytes + extra > budget) { stuck.add(best); continue; } // later hull points cost even more bytes
    bytes += extra;
    at[best]++;
  }
  const chosen = hulls.map((h, i) => h[at[i]]);
  // leftover bytes: any option (hull or not) that lowers the cost and still fits, best reduction first
  for (;;) {
    let best: { i: number; o: PlanOption } | undefined;
    for (let i = 0; i < names.length; i++) {
      for (const o of options.get(names[i])!) {
        if (o.cost < chosen[i].cost && bytes - chosen[i].bytes + o.bytes <= budget && (!best || chosen[i].cost - o.cost > chosen[best.i].cost - best.o.cost)) best = { i, o };
      }
    }
    if (!best) break;
    bytes += best.o.bytes - chosen[best.i].bytes;
    chosen[best.i] = best.o;
  }
  const rows = names.map((tensor, i) => ({ tensor, ...chosen[i] }));
  return { rows, bytes, budget, predictedCost: rows.reduce((s, r) => s + r.cost, 0) };
}

const METHODS = { rtn, hqq, gptq, awq } as const;
const METHOD_IDS = Object.keys(METHODS) as [keyof typeof METHODS, ...(keyof typeof METHODS)[]];

export const MixedParams = z.object({
  /** Bytes the whole model may take (every tensor counted, norms included). */
  budget: z.number().int().positive(),
  method: z.enum(METHOD_IDS).default('gptq'),
  /** Options of the chosen method (e.g. { actOrder: true }). */
  methodParams: z.record(z.string(), z.unknown()).default({}),
  /** Candidate dtypes; a tensor whose rows no block of a candidate divides gets its fallback (e.g. f16). */
  dtypes: z.array(DTypeParam).min(1).default(['int3_g32', 'int4_g64', 'int4_g32', 'int8_g64']),
  /** Let the plan choose the embedding's and the output projection's dtype too (else they are kept). */
  embedding: z.boolean().default(true),
  lmHead: z.boolean().default(true),
  /** Probe set: the first `probeSequences` calibration sequences, cut to `probeLength` tokens. */
  probeSequences: z.number().int().positive().default(4),
  probeLength: z.number().int().min(4).default(128),
  /** Measure only each tensor's cheapest candidate and extrapolate the rest by proxy loss (one probe per tensor). */
  extrapolate: z.boolean().default(true),
});
export type MixedParams = z.output<typeof MixedParams>;

/** The per-tensor quantizer the chosen method amounts to, for probing (AWQ's scaling is per site: probed without it). */
function tensorQuantizer(method: MixedParams['method'], methodParams: Record<string, unknown>, hessian: (t: string) => Float64Array | undefined): TensorQuantizer {
  if (method === 'hqq') {
    const o = HqqParams.parse({ ...methodParams });
    return (t, d) => hqqTensor(t, d, o);
  }
  if (method === 'gptq') {
    const o = GptqParams.parse({ ...methodParams });
    return (t, d) => {
      const H = hessian(t.name);
      return H ? gptqTensor(t, d, H, o).tensor : castTensor(t, d);
    };
  }
  if (method === 'awq' && AwqParams.parse({ ...methodParams }).clip) return (t, d) => clippedTensor(t, d, hessian(t.name));
  return (t, d) => castTensor(t, d);
}

/** Sensitivities and the allocation, without quantizing the model. */
export async function planMixed(model: Model, p: MixedParams, calibration: Calibration, ctx: PassContext = {}): Promise<{ plan: MixedPlan; sensitivity: SensitivityEntry[] }> {
  const stats = await linearStats(model, calibration, ctx);
  const hessian = (t: string) => stats.get(t)?.hessian;
  const probeCal = { sequences: calibration.sequences.slice(0, p.probeSequences).map((s) => s.slice(0, p.probeLength)), description: `probe of ${calibration.description}` };
  const probe = await probeDistribution(model, probeCal, ctx);
  const quantize = tensorQuantizer(p.method, p.methodParams, hessian);

  const selected = [...model.tensors.values()].filter((t) => t.shape.length === 2 && (isLinearWeight(t.name) || (p.embedding && t.name === EMBED) || (p.lmHead && t.name === LM_HEAD)));
  const candidates = new Map(selected.map((t) => [t.name, [...new Set(p.dtypes.map((d) => fitDType(d, t.shape[1])))]]));
  // the block formats are probed, coarsest first (extrapolation's anchor); float fallbacks are not (see below)
  const bits = (d: DTypeId) => byteSize(d, 1024);
  const probed = new Map(selected.map((t) => [t.name, candidates.get(t.name)!.filter((d) => gridFormat(d)).sort((a, b) => bits(a) - bits(b))]));
  for (const [name, ds] of probed) if (!ds.length) probed.delete(name);
  const sensitivity = p.extrapolate
    ? await extrapolatedSensitivity(model, probed, probe, quantize, hessian, ctx)
    : await measureSensitivity(model, [...probed].flatMap(([tensor, ds]) => ds.map((dtype) => ({ tensor, dtype }))), probe, quantize, ctx);
  const options = new Map<string, PlanOption[]>();
  for (const t of selected) {
    const n = numel(t.shape);
    // float fallbacks are not probed: f16 rounding moves a model's outputs by far less than any block format
    options.set(t.name, candidates.get(t.name)!.map((dtype) => ({
      dtype, bytes: byteSize(dtype, n), cost: sensitivity.find((e) => e.tensor === t.name && e.dtype === dtype)?.kld ?? 0,
    })));
  }
  const fixed = [...model.tensors.values()].filter((t) => !options.has(t.name)).reduce((s, t) => s + t.data.byteLength, 0);
  return { plan: allocate(options, fixed, p.budget), sensitivity };
}

export const mixed = definePass({
  id: 'mixed',
  version: 1,
  family: 'quant',
  summary: 'Mixed precision: per-tensor dtypes chosen by measured sensitivity under a byte budget, applied with rtn/hqq/gptq/awq',
  params: MixedParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('mixed precision needs calibration data (its probe set and the method\'s statistics)');
    const { plan } = await planMixed(model, params, ctx.calibration, ctx);
    ctx.report?.({ pass: 'mixed', method: params.method, budget: plan.budget, bytes: plan.bytes, predictedKld: plan.predictedCost, plan: plan.rows });
    const overrides = Object.fromEntries(plan.rows.map((r) => [r.tensor, r.dtype]));
    const pass = METHODS[params.method];
    const out = await pass.apply(model, pass.params.parse({ ...params.methodParams, embedding: 'keep', lmHead: 'keep', overrides }) as never, ctx);
    if (modelBytes(out) > params.budget) throw new Error(`mixed: the plan came to ${modelBytes(out)} B, over the budget of ${params.budget} B`);
    return out;
  },
});
