// What every quantizer shares: which tensors are quantized into which dtype (with the fallback for rows no
// block fits), the affine grid each block format stores (x = scale * level + offset), packing levels into
// the formats' bytes, and the proxy loss tr((W - Q) H (W - Q)^T) that GPTQ and AWQ minimise.
import { z } from 'zod';
import { cancelPoint, runSteps, type Steps } from '../cancel-point';
import { DTYPES, encode, type DTypeId } from '../../model/dtype';
import { INT_GROUPS, intId, packIntBlock, parseIntId, storedScaleOffset } from '../../model/dtypes/intn';
import { view } from '../../model/dtypes/traits';
import { f16ToF32, f32ToF16 } from '../../model/half';
import type { Model } from '../../model/model';
import { EMBED, LM_HEAD } from '../../model/names';
import { makeTensor, toFloat32, type Tensor } from '../../model/tensor';
import { collectLinearStats, type LinearStats } from '../calibration';
import type { Calibration, PassContext } from '../pass';

export const DTypeParam = z.enum(Object.keys(DTYPES) as [DTypeId, ...DTypeId[]]);

/** Which tensors a quant pass touches and into what. Norms and biases are never quantized (they stay f32). */
export const TargetParams = z.object({
  /** The dtype of every linear layer in the transformer blocks. */
  dtype: DTypeParam.default('int4_g32'),
  /**
   * The token embedding and the output projection are separate choices (they are the most sensitive tensors
   * per byte). With tied embeddings the one matrix is both, and `embedding` decides.
   */
  embedding: z.union([z.literal('keep'), DTypeParam]).default('keep'),
  lmHead: z.union([z.literal('keep'), DTypeParam]).default('keep'),
  /** Per-tensor dtypes by canonical name; they win over the above (a mixed-precision plan is one). */
  overrides: z.record(z.string(), DTypeParam).default({}),
});
export type TargetParams = z.output<typeof TargetParams>;

const LINEAR = /^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/;
export const isLinearWeight = (name: string) => LINEAR.test(name);
/** Tensors a quantizer may touch: the block linears, the embedding and the output projection. */
export const isQuantizable = (name: string) => isLinearWeight(name) || name === EMBED || name === LM_HEAD;

/**
 * The dtype a tensor with rows of `inDim` weights gets when `dtype` is asked for. Blocks run along a row and
 * never straddle two (GGUF and MatMulNBits both require it), so when the block does not divide the row we
 * fall back: first to a smaller group of the same int width, then to f16, which is what llama.cpp does with
 * such tensors (stories260K's down_proj has 172 inputs; its Q4_0 file keeps them f16). The fallback's bytes
 * are the tensor's bytes, so every plan counts them.
 */
export function fitDType(dtype: DTypeId, inDim: number): DTypeId {
  if (inDim % DTYPES[dtype].blockSize === 0) return dtype;
  const int = parseIntId(dtype);
  const smaller = int && [...INT_GROUPS].reverse().find((g) => g < int.group && inDim % g === 0);
  return int && smaller ? intId(int.bits, smaller) : 'f16';
}

/** Tensor name -> the dtype it will be stored in (fallback applied), for every tensor the params select. */
export function quantPlan(model: Model, p: TargetParams): Map<string, DTypeId> {
  const plan = new Map<string, DTypeId>();
  for (const [name, t] of model.tensors) {
    if (!isQuantizable(name) || t.shape.length !== 2) continue;
    const choice: DTypeId | 'keep' = name in p.overrides ? p.overrides[name] : name === EMBED ? p.embedding : name === LM_HEAD ? p.lmHead : p.dtype;
    if (choice === 'keep' || choice === t.dtype) continue;
    plan.set(name, fitDType(choice, t.shape[1]));
  }
  for (const name of Object.keys(p.overrides)) {
    if (!model.tensors.has(name) || !isQuantizable(name)) throw new Error(`override for ${name}: not a quantizable tensor of this model`);
  }
  return plan;
}

/**
 * Replace each planned tensor with `quantize(tensor, dtype)`, one at a time, reporting progress and honouring
 * cancellation between tensors. The input model is not modified.
 */
export async function quantizeTensors(
  model: Model, plan: ReadonlyMap<string, DTypeId>, ctx: PassContext, stage: string,
  quantize: (t: Tensor, dtype: DTypeId) => Tensor | Promise<Tensor>,
): Promise<Model> {
  const tensors = new Map(model.tensors);
  let done = 0;
  for (const [name, dtype] of plan) {
    await cancelPoint(ctx.signal);
    tensors.set(name, await quantize(model.tensors.get(name)!, dtype));
    ctx.onProgress?.({ stage, done: ++done, total: plan.size });
  }
  return { ...model, tensors };
}

/** The reference quantizer of the format table (llama.cpp's *_ref for GGUF types, min/max RTN for ours). */
export function castTensor(t: Tensor, dtype: DTypeId, values = toFloat32(t)): Tensor {
  return makeTensor(t.name, t.shape, dtype, encode(dtype, values));
}

const statsCache = new WeakMap<Model, WeakMap<Calibration, Map<string, LinearStats>>>();

/**
 * Every linear layer's calibration statistics with Hessians, computed once per (model, calibration) pair:
 * GPTQ, AWQ and the sensitivity probes of one model share a single calibration run. Cached weakly, so the
 * statistics go when the model or the calibration does; a pass stays a pure function of its inputs.
 */
export async function linearStats(model: Model, calibration: Calibration, ctx: PassContext): Promise<Map<string, LinearStats>> {
  let byCalib = statsCache.get(model);
  if (!byCalib) statsCache.set(model, (byCalib = new WeakMap()));
  let stats = byCalib.get(calibration);
  if (!stats) {
    stats = await collectLinearStats(model, calibration, { hessian: true, signal: ctx.signal, onProgress: ctx.onProgress });
    byCalib.set(calibration, stats);
  }
  return stats;
}

// ---- affine block grids ------------------------------------------------------------------------------

/** One block's stored (already f16-rounded) grid: the block decodes level q to scale * q + offset. */
export interface Grid { scale: number; offset: number }

/** A block format whose values all lie on a per-block affine grid of `levels` points. */
export interface GridFormat {
  readonly dtype: DTypeId;
  readonly block: number;
  readonly levels: number;
  /** The format's own rule for a block's grid (min/max, or llama.cpp's signed-max scale), as stored. */
  fit(w: ArrayLike<number>, start: number): Grid;
  /** Write block `b` from its levels and grid; the grid must be one this format can store. */
  pack(dst: Uint8Array, b: number, levels: ArrayLike<number>, g: Grid): void;
}

const h = (x: number) => f16ToF32(f32ToF16(x));

function signedMax(w: ArrayLike<number>, start: number, n: number): number {
  let amax = 0, max = 0;
  for (let j = 0; j < n; j++) if (Math.abs(w[start + j]) > amax) { amax = Math.abs(w[start + j]); max = w[start + j]; }
  return max;
}

function minMax(w: ArrayLike<number>, start: number, n: number): [number, number] {
  let min = Infinity, max = -Infinity;
  for (let j = 0; j < n; j++) { min = Math.min(min, w[start + j]); max = Math.max(max, w[start + j]); }
  return [min, max];
}

/** Nibble pairs as ggml lays them out: byte j holds weight j (low) and weight j + 16 (high). */
function packNibbles(dst: Uint8Array, o: number, levels: ArrayLike<number>) {
  for (let j = 0; j < 16; j++) dst[o + j] = (levels[j] & 0x0f) | ((levels[j + 16] & 0x0f) << 4);
}

// Symmetric llama.cpp formats store only d; their grid is d * (q - mid), i.e. offset = -mid * d.
function symmetricGgml(dtype: 'q4_0' | 'q5_0' | 'q8_0', mid: number, levels: number, d: (w: ArrayLike<number>, s: number) => number): GridFormat {
  const bytes = DTYPES[dtype].blockBytes;
  return {
    dtype, block: 32, levels,
    fit(w, s) {
      const dd = h(d(w, s));
      return { scale: dd, offset: -mid * dd };
    },
    pack(dst, b, q, g) {
      const o = b * bytes, v = view(dst);
      v.setUint16(o, f32ToF16(g.scale), true);
      if (dtype === 'q8_0') for (let j = 0; j < 32; j++) v.setInt8(o + 2 + j, q[j] - 128);
      else if (dtype === 'q4_0') packNibbles(dst, o + 2, q);
      else {
        packNibbles(dst, o + 6, q);
        let qh = 0;
        for (let j = 0; j < 32; j++) qh |= (q[j] >> 4) << j;
        v.setUint32(o + 2, qh >>> 0, true);
      }
    },
  };
}

const GGML_GRIDS: Partial<Record<DTypeId, GridFormat>> = {
  q8_0: symmetricGgml('q8_0', 128, 256, (w, s) => {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[s + j]));
    return amax / 127;
  }),
  q4_0: symmetricGgml('q4_0', 8, 16, (w, s) => signedMax(w, s, 32) / -8),
  q5_0: symmetricGgml('q5_0', 16, 32, (w, s) => signedMax(w, s, 32) / -16),
  q4_1: {
    dtype: 'q4_1', block: 32, levels: 16,
    fit(w, s) {
      const [min, max] = minMax(w, s, 32);
      return { scale: h((max - min) / 15), offset: h(min) };
    },
    pack(dst, b, q, g) {
      const v = view(dst);
      v.setUint16(b * 20, f32ToF16(g.scale), true);
      v.setUint16(b * 20 + 2, f32ToF16(g.offset), true);
      packNibbles(dst, b * 20 + 4, q);
    },
  },
};

function intGrid(dtype: DTypeId): GridFormat | undefined {
  const p = parseIntId(dtype);
  if (!p) return undefined;
  const levels = 1 << p.bits, bytes = DTYPES[dtype].blockBytes;
  return {
    dtype, block: p.group, levels,
    fit(w, s) {
      const [min, max] = minMax(w, s, p.group);
      const [scale, offset] = storedScaleOffset((max - min) / (levels - 1), min);
      return { scale, offset };
    },
    pack: (dst, b, q, g) => packIntBlock(dst, b * bytes, p.bits, q, g.scale, g.offset),
  };
}

/** The grid view of a dtype, or undefined for float formats (which are cast, not gridded). */
export const gridFormat = (dtype: DTypeId): GridFormat | undefined => GGML_GRIDS[dtype] ?? intGrid(dtype);

/** Round to the nearest level of a grid (ties up), clamped to the format's range. */
export function nearestLevel(x: number, g: Grid, levels: number): number {
  if (g.scale === 0) return 0; // a constant block: every level decodes to the offset
  const q = Math.round((x - g.offset) / g.scale);
  return q < 0 ? 0 : q >= levels ? levels - 1 : q;
}

/**
 * A block's grid with its range clipped: AWQ's weight clipping search. Each candidate clamps the block to
 * +/- r * max|w| (r from 1 down to `minRatio`) and lets the format fit its grid to that; the winner minimises
 * e^T H e, e the block's rounding error and H its [block, block] calibration Hessian (so the block's output
 * error), or e^T e without one. Clipping trades a larger error on the few extreme weights for finer steps on
 * all the others. r = 1 is the format's own fit, so by this measure the result is never worse than RTN's.
 */
export function clippedGrid(f: GridFormat, w: ArrayLike<number>, start: number, H?: Float64Array, steps = 20, minRatio = 0.5): Grid {
  const n = f.block, clipped = new Float64Array(n), e = new Float64Array(n);
  let amax = 0;
  for (let j = 0; j < n; j++) amax = Math.max(amax, Math.abs(w[start + j]));
  let best: Grid | undefined, bestErr = Infinity;
  for (let k = 0; k < steps; k++) {
    const bound = amax * (1 - ((1 - minRatio) * k) / steps);
    for (let j = 0; j < n; j++) clipped[j] = Math.max(-bound, Math.min(bound, w[start + j]));
    const g = f.fit(clipped, 0);
    for (let j = 0; j < n; j++) e[j] = w[start + j] - (g.scale * nearestLevel(w[start + j], g, f.levels) + g.offset);
    let err = 0;
    for (let i = 0; i < n; i++) {
      if (!H) { err += e[i] * e[i]; continue; }
      let s = 0;
      for (let j = 0; j < n; j++) s += H[i * n + j] * e[j];
      err += e[i] * s;
    }
    if (err < bestErr) { bestErr = err; best = g; }
  }
  return best!;
}

/**
 * The diagonal [block, block] sub-matrices of H [cols, cols], one per column block; with `s`, those of the
 * Hessian a layer with columns scaled by s sees (its inputs are x / s): H_ij / (s_i s_j).
 */
export function blockHessians(H: Float64Array, cols: number, block: number, s?: ArrayLike<number>): Float64Array[] {
  return Array.from({ length: cols / block }, (_, b) => {
    const c0 = b * block, out = new Float64Array(block * block);
    for (let i = 0; i < block; i++) for (let j = 0; j < block; j++) out[i * block + j] = H[(c0 + i) * cols + c0 + j] / (s ? s[c0 + i] * s[c0 + j] : 1);
    return out;
  });
}

// a step is ~4k blocks of clipping search: with Hessian weighting that is ~10^8 flops
const CLIP_STEP_BLOCKS = 1 << 12;

/** RTN of [rows, cols] weights onto clipped grids (see clippedGrid), each block weighted by its Hessian; packed bytes. */
function* clippedSteps(f: GridFormat, W: ArrayLike<number>, cols: number, blockH?: readonly Float64Array[]): Steps<Uint8Array> {
  const perRow = cols / f.block, blocks = W.length / f.block;
  const grids: Grid[] = new Array(blocks);
  for (let b = 0; b < blocks; b++) {
    grids[b] = clippedGrid(f, W, b * f.block, blockH?.[b % perRow]);
    if ((b + 1) % CLIP_STEP_BLOCKS === 0) yield { done: b + 1, total: blocks };
  }
  const levels = new Uint8Array(W.length);
  for (let i = 0; i < W.length; i++) levels[i] = nearestLevel(W[i], grids[Math.floor(i / f.block)], f.levels);
  return packGrid(f, levels, grids);
}

/** A tensor RTN-quantized onto clipped grids, weighted by H (of inputs x / s when the columns were scaled by s). */
export function clippedTensor(t: Tensor, dtype: DTypeId, H?: Float64Array, s?: Float64Array): Tensor {
  return runSteps(clippedTensorSteps(t, dtype, H, s));
}

/** clippedTensor as steps (runs of blocks), for a pass to put cancel points between them. */
export function* clippedTensorSteps(t: Tensor, dtype: DTypeId, H?: Float64Array, s?: Float64Array): Steps<Tensor> {
  const f = gridFormat(dtype);
  if (!f) return castTensor(t, dtype);
  const cols = t.shape[1];
  return makeTensor(t.name, t.shape, dtype, yield* clippedSteps(f, toFloat32(t), cols, H && blockHessians(H, cols, f.block, s)));
}

/** Pack a [rows, cols] matrix of levels with one grid per block (row-major blocks) into the dtype's bytes. */
export function packGrid(f: GridFormat, levels: Uint8Array, grids: readonly Grid[]): Uint8Array {
  const n = levels.length;
  const out = new Uint8Array((n / f.block) * DTYPES[f.dtype].blockBytes);
  for (let b = 0; b < n / f.block; b++) f.pack(out, b, levels.subarray(b * f.block, (b + 1) * f.block), grids[b]);
  return out;
}

// ---- proxy loss -------------------------------------------------------------------------------------------

/**
 * tr((W - Q) H (W - Q)^T) with H = sum x x^T: the summed squared output error of the layer over the
 * calibration rows, computed without the rows. W, Q are [rows, cols]; H is [cols, cols].
 */
export function proxyLoss(W: ArrayLike<number>, Q: ArrayLike<number>, H: Float64Array, rows: number, cols: number): number {
  const e = new Float64Array(cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) e[i] = W[r * cols + i] - Q[r * cols + i];
    for (let i = 0; i < cols; i++) {
      if (e[i] === 0) continue;
      let s = 0;
      const hi = i * cols;
      for (let j = 0; j < cols; j++) s += H[hi + j] * e[j];
      total += e[i] * s;
    }
  }
  return total;
}

/** Dequantize bytes of a dtype (the tensor's own decoder), for losses and tests. */
export function decodeAs(dtype: DTypeId, data: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  DTYPES[dtype].decode(data, out, n);
  return out;
}
