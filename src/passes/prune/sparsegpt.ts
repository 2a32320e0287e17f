// SparseGPT (Frantar & Alistarh, 2023): prune a layer's input columns left to right and push each removed
// weight's error onto the columns not yet visited through the inverse calibration Hessian (the OBS update),
// so the output error tr((W - Q) H (W - Q)^T) stays small. As in the reference implementation: damped H, the
// upper Cholesky factor of H^-1, lazy batch updates over blocks of columns, and adaptive mask selection per
// block: when a block of 128 columns comes up, each row removes its quota in that block by the OBS error
// w^2 / [H^-1]_cc^2 of the weights as updated so far (under N:M, each group of M when its first column comes up).
// With `dtype`, the paper's joint sparsification and quantization: each kept weight is rounded onto its block's
// grid as its column comes up and that rounding error is propagated like the pruning error, so pruning and
// quantization share one Hessian and one sweep, and the pruned weights are stored as the grid's exact zero.
// Each block's grid is fitted when its first column comes up, with the clipping search weighted by the
// block's Hessian (as our GPTQ does). On stories260K (50%, q4_0, 32 x 128 calibration tokens) it beats
// pruning then llama.cpp's RTN by 0.048 +/- 0.018 nats per token; with 8 x 128 the two tie.
// Only grids with an exact zero level qualify (llama.cpp's symmetric q4_0, q5_0, q8_0: x = d (q - mid)); GPTQ
// after pruning moves the pruned weights, and our int family's float offset has no exact zero.
import { runSteps, runStepsCancellable, type Steps } from '../cancel-point';
import { propagateBlockError } from '../linalg';
import { z } from 'zod';
import { makeTensor } from '../../model/tensor';
import { definePass } from '../pass';
import { blockHessians, castTensor, clippedGrid, fitDType, gridFormat, linearStats, nearestLevel, packGrid, type Grid, type GridFormat } from '../quant/common';
import { dampedInverseUpper, PruneParams, pruneTensors, rowQuota, smallestK, type PruneTarget } from './common';
import { magnitudePrune } from './magnitude';

/** Block formats whose grid holds an exact zero, so joint pruning keeps every pruned weight at zero. */
export const ZERO_GRID_DTYPES = ['q4_0', 'q5_0', 'q8_0'] as const;

export const SparseGptParams = PruneParams.extend({
  /** Added to H's diagonal, as a fraction of its mean diagonal (the reference's percdamp). */
  damp: z.number().min(0).max(1).default(0.01),
  /** Columns per lazy batch update and per mask selection. */
  blockSize: z.number().int().positive().default(128),
  /** Quantize the kept weights in the same sweep (joint mode) into this format; rows it does not fit stay f16. */
  dtype: z.enum(ZERO_GRID_DTYPES).optional(),
});
export type SparseGptOptions = Pick<z.output<typeof SparseGptParams>, 'damp' | 'blockSize'>;

/** SparseGPT one matrix W [rows, cols] against H [cols, cols]; returns the pruned and updated weights. */
export function sparseGptPrune(W: Float32Array, rows: number, cols: number, H: Float64Array, target: PruneTarget, o: SparseGptOptions = { damp: 0.01, blockSize: 128 }): Float32Array {
  return runSteps(sweep(W, rows, cols, H, target, o)).values;
}

/** Joint SparseGPT: prune and quantize W into `dtype` (a format with an exact zero) in one sweep; packed bytes. */
export function sparseGptQuantize(W: Float32Array, rows: number, cols: number, H: Float64Array, target: PruneTarget, dtype: (typeof ZERO_GRID_DTYPES)[number], o: SparseGptOptions = { damp: 0.01, blockSize: 128 }): Uint8Array {
  return runSteps(quantizeSteps(W, rows, cols, H, target, dtype, o));
}

function* quantizeSteps(W: Float32Array, rows: number, cols: number, H: Float64Array, target: PruneTarget, dtype: (typeof ZERO_GRID_DTYPES)[number], o: SparseGptOptions): Steps<Uint8Array> {
  const f = gridFormat(dtype)!;
  if (cols % f.block || o.blockSize % f.block) throw new Error(`sparsegpt: inputs ${cols} and block ${o.blockSize} must be whole ${dtype} blocks of ${f.block}`);
  const { levels, grids } = yield* sweep(W, rows, cols, H, target, o, f);
  return packGrid(f, levels!, grids!);
}

function* pruneSteps(W: Float32Array, rows: number, cols: number, H: Float64Array, target: PruneTarget, o: SparseGptOptions): Steps<Float32Array> {
  return (yield* sweep(W, rows, cols, H, target, o)).values;
}

/** The sweep as steps: it yields after each lazy batch of columns, where the pass puts a cancel point. */
function* sweep(W: Float32Array, rows: number, cols: number, H: Float64Array, target: PruneTarget, o: SparseGptOptions, f?: GridFormat): Steps<{ values: Float32Array; levels?: Uint8Array; grids?: Grid[] }> {
  const nm = target.nm;
  if (nm && (o.blockSize % nm.m || cols % nm.m)) throw new Error(`sparsegpt: block ${o.blockSize} and inputs ${cols} must be whole groups of ${nm.m}`);
  const qblocks = f ? cols / f.block : 0;
  const grids: Grid[] | undefined = f && new Array(rows * qblocks);
  const levels = f && new Uint8Array(rows * cols);
  const vals = new Float64Array(f?.block ?? 0);
  const blockH = f && blockHessians(H, cols, f.block);
  const U = dampedInverseUpper(H, cols, o.damp);
  const Wp = Float64Array.from(W);
  const total = rowQuota(cols, target.sparsity);
  const mask = new Uint8Array(rows * cols);
  const score = new Float64Array(Math.max(o.blockSize, cols));
  for (let i1 = 0; i1 < cols; i1 += o.blockSize) {
    const i2 = Math.min(i1 + o.blockSize, cols), count = i2 - i1;
    if (!nm) {
      // this block's share of each row's quota, rounded cumulatively so the row's total is exact
      const k = Math.round((total * i2) / cols) - Math.round((total * i1) / cols);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < count; j++) score[j] = Wp[r * cols + i1 + j] ** 2 / U[(i1 + j) * cols + i1 + j] ** 2;
        for (const j of smallestK(score, 0, count, k)) mask[r * cols + i1 + j] = 1;
      }
    }
    const err = new Float64Array(rows * count);
    for (let i = i1; i < i2; i++) {
      if (nm && (i - i1) % nm.m === 0) {
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < nm.m; j++) score[j] = Wp[r * cols + i + j] ** 2 / U[(i + j) * cols + i + j] ** 2;
          for (const j of smallestK(score, 0, nm.m, nm.m - nm.n)) mask[r * cols + i + j] = 1;
        }
      }
      if (f && i % f.block === 0) {
        // each row's grid for the block from here, from its weights as updated so far (the block lies inside
        // this lazy batch, so they have every update), the ones already chosen for removal counted as zero
        for (let r = 0; r < rows; r++) {
          for (let k = 0; k < f.block; k++) vals[k] = mask[r * cols + i + k] ? 0 : Wp[r * cols + i + k];
          grids![r * qblocks + i / f.block] = clippedGrid(f, vals, 0, blockH![i / f.block]);
        }
      }
      const d = U[i * cols + i];
      for (let r = 0; r < rows; r++) {
        const w = Wp[r * cols + i];
        let q = 0;
        if (f) {
          const g = grids![r * qblocks + Math.floor(i / f.block)];
          levels![r * cols + i] = nearestLevel(mask[r * cols + i] ? 0 : w, g, f.levels); // zero is a level of these grids
          q = g.scale * levels![r * cols + i] + g.offset;
        } else if (!mask[r * cols + i]) continue; // kept: no error to spread
        const e = (w - q) / d;
        Wp[r * cols + i] = q;
        err[r * count + i - i1] = e;
        for (let j = i + 1; j < i2; j++) Wp[r * cols + j] -= e * U[i * cols + j];
      }
    }
    propagateBlockError(Wp, rows, cols, err, i1, i2, U);
    yield { done: i2, total: cols };
  }
  const values = Float32Array.from(Wp);
  for (let i = 0; i < values.length; i++) if (mask[i]) values[i] = 0; // exact zeros, whatever the updates left
  return { values, levels, grids };
}

export const sparsegpt = definePass({
  id: 'sparsegpt',
  version: 1,
  family: 'prune',
  summary: 'SparseGPT: Hessian-aware pruning with OBS weight updates (calibration data)',
  params: SparseGptParams,
  needsCalibration: true,
  async apply(model, params, ctx) {
    if (!ctx.calibration) throw new Error('sparsegpt needs calibration data');
    const stats = await linearStats(model, ctx.calibration, ctx);
    return pruneTensors(model, params, ctx, 'sparsegpt', async (t, W, target) => {
      const H = stats.get(t.name)?.hessian;
      const [rows, cols] = t.shape;
      const dtype = params.dtype && fitDType(params.dtype, cols);
      // cancellable between column batches: one 11008 x 4096 layer alone takes many seconds
      const run = <T>(steps: Steps<T>) => runStepsCancellable(steps, ctx.signal, (p) => ctx.onProgress?.({ stage: `columns of ${t.name}`, ...p }));
      if (H && dtype && dtype === params.dtype) return makeTensor(t.name, t.shape, dtype, await run(quantizeSteps(W, rows, cols, H, target, params.dtype, params)));
      const pruned = H ? await run(pruneSteps(W, rows, cols, H, target, params)) : magnitudePrune(W, rows, cols, target);
      return dtype ? castTensor(t, dtype, pruned) : pruned; // a row no block fits: f16, as the quantizers do
    }, (name) => stats.get(name)?.sqSum);
  },
});
