// Calibration statistics from real activations: run the CPU reference over the calibration sequences and
// accumulate, per linear layer, what the quantizers need (the Hessian X^T X for GPTQ, mean |x| per input
// channel for AWQ and Wanda's ||x||). Accumulated in float64 so long calibration sets do not lose precision.
import { cancelPoint } from './cancel-point';
import type { Model } from '../model/model';
import { CpuRuntime } from '../runtime/cpu-reference';
import type { Calibration, PassContext } from './pass';

export interface LinearStats {
  inDim: number;
  rows: number;
  /** sum over rows of x x^T, [inDim, inDim] row-major; only when requested (it is inDim^2). */
  hessian?: Float64Array;
  /** sum over rows of |x_i| and x_i^2 per input channel. */
  absSum: Float64Array;
  sqSum: Float64Array;
}

export async function collectLinearStats(
  model: Model, calibration: Calibration, opts: { hessian: boolean; only?: (weight: string) => boolean } & Pick<PassContext, 'signal' | 'onProgress'>,
): Promise<Map<string, LinearStats>> {
  const stats = new Map<string, LinearStats>();
  // q/k/v (and gate/up) read the very same input array: accumulate it once and share the statistics
  let lastInput: Float32Array | undefined, lastStats: LinearStats | undefined;
  const observe = (weight: string, x: Float32Array, rows: number) => {
    if (opts.only && !opts.only(weight)) return;
    if (x === lastInput && lastStats) {
      if (!stats.has(weight)) stats.set(weight, lastStats);
      if (stats.get(weight) === lastStats) return;
    }
    const inDim = x.length / rows;
    let s = stats.get(weight);
    if (!s) {
      s = { inDim, rows: 0, absSum: new Float64Array(inDim), sqSum: new Float64Array(inDim), hessian: opts.hessian ? new Float64Array(inDim * inDim) : undefined };
      stats.set(weight, s);
    }
    lastInput = x;
    lastStats = s;
    s.rows += rows;
    for (let r = 0; r < rows; r++) {
      const o = r * inDim;
      for (let i = 0; i < inDim; i++) {
        const v = x[o + i];
        s.absSum[i] += Math.abs(v);
        s.sqSum[i] += v * v;
      }
      if (s.hessian) {
        const H = s.hessian;
        for (let i = 0; i < inDim; i++) {
          const vi = x[o + i];
          if (vi === 0) continue;
          const hi = i * inDim;
          for (let j = 0; j <= i; j++) H[hi + j] += vi * x[o + j];
        }
      }
    }
  };
  const rt = new CpuRuntime(model, { observe, maxPositions: Math.max(...calibration.sequences.map((s) => s.length)) });
  for (const [i, seq] of calibration.sequences.entries()) {
    await cancelPoint(opts.signal);
    rt.reset();
    rt.forwardSync(seq);
    opts.onProgress?.({ stage: 'calibration', done: i + 1, total: calibration.sequences.length });
  }
  // only the lower triangle was accumulated; mirror it
  for (const s of new Set(stats.values())) {
    const H = s.hessian;
    if (!H) continue;
    for (let i = 0; i < s.inDim; i++) for (let j = 0; j < i; j++) H[j * s.inDim + i] = H[i * s.inDim + j];
  }
  return stats;
}

/** Calibration from text: tokenize, cut `count` windows of `length` tokens at seeded offsets, BOS first. */
export function calibrationFromTokens(tokens: readonly number[], count: number, length: number, seed: number, bosId: number | null, source: string): Calibration {
  if (tokens.length < length + 1) throw new Error(`calibration text has ${tokens.length} tokens, fewer than one window of ${length}`);
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const sequences = Array.from({ length: count }, () => {
    const start = Math.floor(next() * (tokens.length - length));
    const seq = tokens.slice(start, start + length);
    if (bosId != null) seq[0] = bosId;
    return seq;
  });
  return { sequences, description: `${source}, ${count} x ${length} tokens, seed ${seed}` };
}
