// AWQ (Lin et al., 2023): a few input channels carry large activations, and their weights matter most.
// Scaling those weight columns up by s (and the activations down by 1/s) leaves the float function unchanged
// but gives the salient weights finer relative quantization steps. s = mean|x|^alpha per input channel, with
// alpha grid-searched per site to minimise the layers' output error after RTN, measured exactly from the
// calibration Hessian: tr((W - Q(W s)/s) H (W - Q(W s)/s)^T). 1/s is folded into the op that produces the
// input, where that is exact:
//   q/k/v      <- input_layernorm weight          gate/up <- post_attention_layernorm weight
//   o_proj     <- v_proj rows (and bias); with grouped-query attention one v row feeds the same channel of
//                 every head in its group, so the scale is tied across those heads
//   down_proj  <- up_proj rows (silu(gate) * up is linear in up)
//   lm_head    <- the final norm weight (unless tied to the embedding)
// alpha = 0 is plain RTN and is always a candidate, so a site never gets a worse proxy loss than RTN. Then, as
// AWQ does, each block's range may be clipped where that lowers its output error under the scaled inputs.
import { z } from 'zod';
import { throwIfAborted } from '../../io/errors';
import { runSteps, runStepsCancellable, type Steps } from '../cancel-point';
import { encode, type DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import { FINAL_NORM, LM_HEAD, layerName } from '../../model/names';
import { f32Tensor, toFloat32 } from '../../model/tensor';
import type { LinearStats } from '../calibration';
import { definePass, type PassContext } from '../pass';
import { castTensor, clippedTensorSteps, decodeAs, gridFormat, linearStats, proxyLoss, quantizeTensors, quantPlan, TargetParams } from './common';

export const AwqParams = TargetParams.extend({
  /** alpha is searched over 0, 1/grid, ..., (grid - 1)/grid (AWQ uses 20). */
  grid: z.number().int().min(1).max(100).default(20),
  /** AWQ's second step: clip each block's range where that lowers its output error (see clippedGrid). */
  clip: z.boolean().default(true),
});

/** Where one scale vector applies: the linears that read the channels and the op that produces them. */
interface Site {
  name: string;
  linears: string[];
  fold: { norm: string } | { rows: string; bias?: string };
  /** Heads per kv head when the producer is v_proj (scale tied across them), else 1. */
  tie: number;
  headDim: number;
}

/** The search's outcome for one site: t is the scale of the producer's channels (v rows for o_proj). */
export interface AwqScaling {
  site: string;
  linears: string[];
  fold: Site['fold'];
  alpha: number;
  scale: Float64Array;
  tie: number;
  headDim: number;
  loss: number;
  rtnLoss: number;
}

function sites(model: Model): Site[] {
  const c = model.config, L = layerName;
  const out: Site[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const v = L(l, 'self_attn.v_proj.bias');
    out.push(
      { name: `layer ${l} attention input`, linears: ['q', 'k', 'v'].map((x) => `model.layers.${l}.self_attn.${x}_proj.weight`), fold: { norm: L(l, 'input_layernorm.weight') }, tie: 1, headDim: 1 },
      { name: `layer ${l} o_proj input`, linears: [L(l, 'self_attn.o_proj.weight')], fold: { rows: L(l, 'self_attn.v_proj.weight'), bias: model.tensors.has(v) ? v : undefined }, tie: c.numHeads / c.numKvHeads, headDim: c.headDim },
      { name: `layer ${l} mlp input`, linears: [L(l, 'mlp.gate_proj.weight'), L(l, 'mlp.up_proj.weight')], fold: { norm: L(l, 'post_attention_layernorm.weight') }, tie: 1, headDim: 1 },
      { name: `layer ${l} down_proj input`, linears: [L(l, 'mlp.down_proj.weight')], fold: { rows: L(l, 'mlp.up_proj.weight') }, tie: 1, headDim: 1 },
    );
  }
  if (!c.tieWordEmbeddings) out.push({ name: 'output', linears: [LM_HEAD], fold: { norm: FINAL_NORM }, tie: 1, headDim: 1 });
  return out;
}

/** Producer-channel scale t -> scale of every input channel of the linears (o_proj: t repeats per head group). */
function expand(t: Float64Array, tie: number, headDim: number): Float64Array {
  if (tie === 1) return t;
  const kvHeads = t.length / headDim;
  const s = new Float64Array(t.length * tie);
  for (let h = 0; h < kvHeads * tie; h++) for (let d = 0; d < headDim; d++) s[h * headDim + d] = t[Math.floor(h / tie) * headDim + d];
  return s;
}

/** mean |x| per producer channel (averaged over the heads that share it). */
function meanAbs(st: LinearStats, tie: number, headDim: number): Float64Array {
  const m = st.absSum.map((a) => a / Math.max(st.rows, 1));
  if (tie === 1) return m;
  const t = new Float64Array(m.length / tie);
  for (let c = 0; c < m.length; c++) {
    const h = Math.floor(c / headDim), d = c % headDim;
    t[Math.floor(h / tie) * headDim + d] += m[c] / tie;
  }
  return t;
}

/** The output error of RTN on W with its columns scaled by s: Q(W diag(s)) diag(1/s) - W under H. */
function scaledRtnLoss(W: Float32Array, rows: number, cols: number, s: Float64Array, H: Float64Array, dtype: DTypeId): number {
  const Ws = new Float32Array(W.length);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) Ws[r * cols + i] = W[r * cols + i] * s[i];
  const Q = decodeAs(dtype, encode(dtype, Ws), Ws.length);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) Q[r * cols + i] /= s[i];
  return proxyLoss(W, Q, H, rows, cols);
}

/** Search alpha for every site whose linears are quantized into a block format (with plain RTN, as AWQ does). */
export function searchAwqScales(
  model: Model, stats: ReadonlyMap<string, LinearStats>, plan: ReadonlyMap<string, DTypeId>, grid = 20, ctx: PassContext = {},
): AwqScaling[] {
  return runSteps(searchSteps(model, stats, plan, grid, ctx));
}

/** searchAwqScales with a cancel point at every grid point (one costs an RTN and a proxy loss per linear). */
export function searchAwqScalesCancellable(
  model: Model, stats: ReadonlyMap<string, LinearStats>, plan: ReadonlyMap<string, DTypeId>, grid = 20, ctx: PassContext = {},
): Promise<AwqScaling[]> {
  return runStepsCancellable(searchSteps(model, stats, plan, grid, ctx), ctx.signal, (p) => ctx.onProgress?.({ stage: 'awq alpha grid', ...p }));
}

function* searchSteps(
  model: Model, stats: ReadonlyMap<string, LinearStats>, plan: ReadonlyMap<string, DTypeId>, grid: number, ctx: PassContext,
): Steps<AwqScaling[]> {
  const out: AwqScaling[] = [];
  const all = sites(model);
  for (const [i, site] of all.entries()) {
    throwIfAborted(ctx.signal);
    const targets = site.linears.filter((n) => plan.has(n) && gridFormat(plan.get(n)!) && stats.get(n)?.hessian);
    if (!targets.length) continue;
    const mean = meanAbs(stats.get(targets[0])!, site.tie, site.headDim);
    const layers = targets.map((n) => {
      const t = model.tensors.get(n)!;
      return { W: toFloat32(t), rows: t.shape[0], cols: t.shape[1], H: stats.get(n)!.hessian!, dtype: plan.get(n)! };
    });
    const lossOf = (t: Float64Array) => {
      const s = expand(t, site.tie, site.headDim);
      return layers.reduce((sum, l) => sum + scaledRtnLoss(l.W, l.rows, l.cols, s, l.H, l.dtype), 0);
    };
    let best = { alpha: 0, scale: new Float64Array(mean.length).fill(1), loss: Infinity };
    let rtnLoss = 0;
    for (let g = 0; g < grid; g++) {
      const alpha = g / grid;
      const t = mean.map((m) => Math.pow(Math.max(m, 1e-4), alpha));
      let max = -Infinity, min = Infinity;
      for (const x of t) { max = Math.max(max, x); min = Math.min(min, x); }
      const norm = Math.sqrt(max * min); // AWQ's normalisation keeps the weights' overall magnitude
      for (let k = 0; k < t.length; k++) t[k] /= norm;
      const loss = lossOf(t);
      if (g === 0) rtnLoss = loss;
      if (loss < best.loss) best = { alpha, scale: t, loss };
      yield { done: g + 1, total: grid };
    }
    out.push({ site: site.name, linears: site.linears, fold: site.fold, tie: site.tie, headDim: site.headDim, rtnLoss, ...best });
    ctx.onProgress?.({ stage: 'awq search', done: i + 1, total: all.length });
  }
  return out;
}

/** Apply the scalings to the float weights: the same function, with salient columns scaled up. */
export function applyAwqScales(model: Model, scalings: readonly AwqScaling[]): Model {
  const work = new Map<string, Float64Array>();
  const get = (name: string) => {
    let w = work.get(name);
    if (!w) work.set(name, (w = Float64Array.from(toFloat32(model.tensors.get(name)!))));
    return w;
  };
  for (const sc of scalings) {
    const s = expand(sc.scale, sc.tie, sc.headDim);
    for (const name of sc.linears) {
      const W = get(name), cols = s.length;
      for (let k = 0; k < W.length; k++) W[k] *= s[k % cols];
    }
    if ('norm' in sc.fold) {
      const w = get(sc.fold.norm);
      for (let k = 0; k < w.length; k++) w[k] /= s[k];
    } else {
      const W = get(sc.fold.rows), cols = W.length / sc.scale.length;
      for (let k = 0; k < W.length; k++) W[k] /= sc.scale[Math.floor(k / cols)];
      if (sc.fold.bias) {
        const b = get(sc.fold.bias);
        for (let k = 0; k < b.length; k++) b[k] /= sc.scale[k];
      }
    }
  }
  const tensors = new Map(model.tensors);
  for (const [name, w] of work) tensors.set(name, f32Tensor(name, model.tensors.get(name)!.shape, Float32Array.from(w)));
  return { ...model, tensors };
}

export const awq = definePass({
  id: 'awq',
  version: 1,
  family: 'quant',
  summary: 'AWQ: activation-aware per-channel scaling (folded into the previous op) and weight clipping, searched on calibration data',
  params: AwqParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('awq needs calibration data');
    const plan = quantPlan(model, params);
    const stats = await linearStats(model, ctx.calibration, ctx);
    const scalings = await searchAwqScalesCancellable(model, stats, plan, params.grid, ctx);
    for (const s of scalings) ctx.report?.({ pass: 'awq', site: s.site, alpha: s.alpha, proxyLoss: s.loss, rtnProxyLoss: s.rtnLoss });
    const scaled = applyAwqScales(model, scalings);
    const scaleOf = new Map(scalings.flatMap((sc) => sc.linears.map((n) => [n, expand(sc.scale, sc.tie, sc.headDim)] as const)));
    return quantizeTensors(scaled, plan, ctx, 'awq', (t, dtype) => {
      // the embedding has no Hessian: its clip minimises the plain weight error
      return params.clip ? runStepsCancellable(clippedTensorSteps(t, dtype, stats.get(t.name)?.hessian, scaleOf.get(t.name)), ctx.signal) : castTensor(t, dtype);
    });
  },
});
