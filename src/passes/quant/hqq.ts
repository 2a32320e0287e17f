// HQQ (Badri & Shaji, 2023): half-quadratic optimisation of each block's scale and offset, no calibration data.
// The weight error is split into W - dequant(Q) = E + noise, where E is a sparse outlier term found by the
// generalised soft-threshold of an lp norm (p < 1); with E fixed, the best offset (and, our extension, scale)
// is a closed-form least-squares fit, and with the grid fixed the best levels are the nearest ones. Each block
// starts from RTN's min/max grid and keeps the iterate with the smallest squared error of what it will
// actually store (f16 scale and offset), so HQQ never reconstructs a block worse than RTN.
import { z } from 'zod';
import type { DTypeId } from '../../model/dtype';
import { parseIntId, storedScaleOffset } from '../../model/dtypes/intn';
import { makeTensor, toFloat32, type Tensor } from '../../model/tensor';
import { runSteps, runStepsCancellable, type Steps } from '../cancel-point';
import { definePass } from '../pass';
import { castTensor, gridFormat, nearestLevel, packGrid, quantizeTensors, quantPlan, TargetParams, type Grid } from './common';

export const HqqParams = TargetParams.extend({
  iterations: z.number().int().min(0).max(200).default(20),
  /** The lp norm of the outlier term; HQQ uses 0.7. */
  p: z.number().gt(0).max(1).default(0.7),
  /** Half-quadratic penalty, grown by kappa every iteration (HQQ's defaults). */
  beta: z.number().positive().default(10),
  kappa: z.number().min(1).default(1.01),
  /** Fit the scale with the offset (least squares on both); HQQ proper only moves the offset. */
  optimizeScale: z.boolean().default(true),
});
export type HqqOptions = Omit<z.output<typeof HqqParams>, keyof TargetParams>;
export const HQQ_DEFAULTS: HqqOptions = { iterations: 20, p: 0.7, beta: 10, kappa: 1.01, optimizeScale: true };

const shrink = (x: number, beta: number, p: number) => {
  const a = Math.abs(x);
  return a === 0 ? 0 : Math.sign(x) * Math.max(0, a - Math.pow(a, p - 1) / beta);
};

/** Squared error of a block against the grid it will store, its levels written to q. */
function storedError(w: Float32Array, s: number, n: number, levels: number, g: Grid, q: Uint8Array): number {
  let err = 0;
  for (let j = 0; j < n; j++) {
    q[j] = nearestLevel(w[s + j], g, levels);
    err += (w[s + j] - (g.scale * q[j] + g.offset)) ** 2;
  }
  return err;
}

/** Optimise one block of `n` weights at `w[s..]` on a grid of `levels` points; returns its grid, levels in `best`. */
export function hqqBlock(w: Float32Array, s: number, n: number, levels: number, o: HqqOptions, best: Uint8Array): Grid {
  let min = Infinity, max = -Infinity;
  for (let j = 0; j < n; j++) { min = Math.min(min, w[s + j]); max = Math.max(max, w[s + j]); }
  let scale = (max - min) / (levels - 1), offset = min;
  const stored = (): Grid => {
    const [sc, off] = storedScaleOffset(scale, offset);
    return { scale: sc, offset: off };
  };
  let bestGrid = stored();
  let bestErr = storedError(w, s, n, levels, bestGrid, best);
  if (scale === 0) return bestGrid;
  const q = new Uint8Array(n), tmp = new Uint8Array(n);
  let beta = o.beta;
  for (let it = 0; it < o.iterations; it++) {
    // levels for the current grid, then the outlier term of the residual
    let sq = 0, sqq = 0, sy = 0, sqy = 0;
    for (let j = 0; j < n; j++) {
      q[j] = nearestLevel(w[s + j], { scale, offset }, levels);
      const y = w[s + j] - shrink(w[s + j] - (scale * q[j] + offset), beta, o.p); // W - E: what the grid should fit
      sq += q[j]; sqq += q[j] * q[j]; sy += y; sqy += q[j] * y;
    }
    const varQ = n * sqq - sq * sq;
    const fitted = o.optimizeScale && varQ > 0 ? (n * sqy - sq * sy) / varQ : scale;
    if (fitted > 0) scale = fitted;
    offset = (sy - scale * sq) / n;
    beta *= o.kappa;
    const g = stored();
    const err = storedError(w, s, n, levels, g, tmp);
    if (err < bestErr) {
      bestErr = err;
      bestGrid = g;
      best.set(tmp);
    }
  }
  return bestGrid;
}

/** HQQ-quantize a tensor whose dtype is in our int family; other dtypes get the table's RTN. */
export function hqqTensor(t: Tensor, dtype: DTypeId, o: HqqOptions = HQQ_DEFAULTS, values = toFloat32(t)): Tensor {
  return runSteps(hqqSteps(t, dtype, o, values));
}

// HQQ iterates per block, not per tensor, so its steps are runs of blocks (~64k weights x iterations each)
const STEP_WEIGHTS = 1 << 16;

function* hqqSteps(t: Tensor, dtype: DTypeId, o: HqqOptions, values: Float32Array): Steps<Tensor> {
  const f = gridFormat(dtype);
  if (!f || !parseIntId(dtype)) return castTensor(t, dtype, values);
  const blocks = values.length / f.block, perStep = Math.max(1, Math.floor(STEP_WEIGHTS / f.block));
  const levels = new Uint8Array(values.length);
  const grids: Grid[] = [];
  for (let b = 0; b < blocks; b++) {
    grids.push(hqqBlock(values, b * f.block, f.block, f.levels, o, levels.subarray(b * f.block, (b + 1) * f.block)));
    if ((b + 1) % perStep === 0) yield { done: b + 1, total: blocks };
  }
  return makeTensor(t.name, t.shape, dtype, packGrid(f, levels, grids));
}

export const hqq = definePass({
  id: 'hqq',
  version: 1,
  family: 'quant',
  summary: 'HQQ: half-quadratic optimisation of each block\'s scale and offset (int family), no calibration',
  params: HqqParams,
  needsCalibration: false,
  async apply(model, params, ctx) {
    const { iterations, p, beta, kappa, optimizeScale } = params;
    return quantizeTensors(model, quantPlan(model, params), ctx, 'hqq', (t, dtype) => runStepsCancellable(hqqSteps(t, dtype, { iterations, p, beta, kappa, optimizeScale }, toFloat32(t)), ctx.signal));
  },
});
