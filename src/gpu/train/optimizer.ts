// AdamW over every parameter group, after clipping all gradients together to a global L2 norm:
// sums of squares per group (chunked partials), one clip factor, then one AdamW dispatch per group.
// The clip factor never leaves the GPU; the norm is read back with the loss for the training log.
// Gradients of pruned weights (groups with a mask) are zeroed first, so they neither count in the
// norm nor move the weight.
import { storageBuffer } from '../buffers';
import type { GpuContext } from '../context';
import { Dispatch } from '../dispatch';
import type { UniformArena } from '../uniforms';
import type { Op } from './graph';
import * as T from './kernels';
import type { ParamGroup } from './params';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay, applied to matrices (not norm weights). */
  weightDecay: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  maxGradNorm: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

export class GpuAdamW {
  /** [clip factor, global gradient norm] of the last step. */
  readonly clip: GPUBuffer;
  private readonly partials: GPUBuffer;
  private readonly masks: { dispatch: Dispatch<typeof T.maskGrad>; count: number }[] = [];
  private readonly sumsq: { dispatch: Dispatch<typeof T.gradSumsq>; count: number; first: number }[] = [];
  private readonly scale: Dispatch<typeof T.clipScale>;
  private readonly updates: { dispatch: Dispatch<typeof T.adamw>; group: ParamGroup }[];
  private readonly chunks: number;
  /** Optimizer steps taken (t of the bias corrections); set when a checkpoint is restored. */
  step = 0;

  constructor(ctx: GpuContext, arena: UniformArena, groups: readonly ParamGroup[], readonly options: AdamWOptions) {
    let first = 0;
    const starts = groups.map((g) => {
      const at = first;
      first += Math.ceil(g.count / T.SUMSQ_CHUNK);
      return at;
    });
    this.chunks = first;
    this.partials = storageBuffer(ctx.device, 'grad_sumsq', first * 4);
    this.clip = storageBuffer(ctx.device, 'clip', 8);
    for (const g of groups) {
      if (g.mask) this.masks.push({ dispatch: new Dispatch(ctx, arena, T.maskGrad, { mask: g.mask, grad: g.grad }), count: g.count });
    }
    groups.forEach((g, i) => {
      this.sumsq.push({ dispatch: new Dispatch(ctx, arena, T.gradSumsq, { grad: g.grad, partials: this.partials }), count: g.count, first: starts[i] });
    });
    this.scale = new Dispatch(ctx, arena, T.clipScale, { partials: this.partials, out: this.clip });
    this.updates = groups.map((group) => ({
      dispatch: new Dispatch(ctx, arena, T.adamw, { grad: group.grad, clip: this.clip, w: group.w, m: group.m, v: group.v }),
      group,
    }));
  }

  /** The dispatches of one optimizer step at learning rate lr (advances the step count). */
  ops(lr: number): Op[] {
    const { beta1, beta2, eps, weightDecay, maxGradNorm } = this.options;
    const t = ++this.step;
    const bc1 = 1 - beta1 ** t, bc2 = 1 - beta2 ** t;
    return [
      ...this.masks.map(({ dispatch, count }) => ({ dispatch, params: { count } })),
      ...this.sumsq.map(({ dispatch, count, first }) => ({ dispatch, params: { count, first } })),
      { dispatch: this.scale, params: { count: this.chunks, maxNorm: maxGradNorm } },
      ...this.updates.map(({ dispatch, group }) => ({
        dispatch,
        params: { count: group.count, lr, beta1, beta2, eps, weightDecay: group.decay ? weightDecay : 0, bc1, bc2 },
      })),
    ];
  }

  destroy() {
    this.partials.destroy();
    this.clip.destroy();
  }
}
