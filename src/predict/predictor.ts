// Cheap features -> a predicted delta with an interval. The model is ridge regression on log features for
// an asinh-transformed target: asinh(z / delta) is log-like for losses well above `delta` (they span orders
// of magnitude between 8-bit and 2-bit) and linear near zero, where measured deltas are noise of either sign.
// A perplexity target (relative increase y) is first taken to z = ln(1 + y), the mean NLL increase, which
// grows like the KL divergence the features measure (ppl itself grows exponentially in it).
// The interval is conformal (jackknife): the (1 - alpha) quantile of the leave-one-out residuals, so with
// exchangeable records it covers a new record's measured value with probability >= 1 - alpha.
import { fitRidge, predictLinear, type LinearModel } from './ridge';
import { spearman } from './rank';
import type { PredictRecord } from './records';

export interface PredictorOptions {
  /** The measured key to predict, e.g. "tinystories:ppl" or "kld". */
  target: string;
  /** Feature names (see features.ts); records lacking one are left out. */
  features: readonly string[];
  /** Miscoverage of the interval: 0.1 gives a 90% interval. */
  alpha?: number;
  lambda?: number;
  /** Scale below which target deltas count as noise (the asinh transform turns linear there). */
  delta?: number;
}

export interface Prediction {
  value: number;
  lo: number;
  hi: number;
  /** Nominal coverage of [lo, hi]. */
  level: number;
}

export interface Predictor {
  readonly options: Required<PredictorOptions>;
  readonly n: number;
  predict(features: Readonly<Record<string, number>>): Prediction;
}

const FEATURE_FLOOR = 1e-7;
const DEFAULT_DELTA: Record<string, number> = { kld: 1e-4 };

export function withDefaults(o: PredictorOptions): Required<PredictorOptions> {
  return { alpha: 0.1, lambda: 1e-2, delta: DEFAULT_DELTA[o.target] ?? 1e-3, ...o };
}

const isPpl = (target: string) => target === 'ppl' || target.endsWith(':ppl');
const forward = (target: string, y: number) => (isPpl(target) ? Math.log1p(y) : y);
const inverse = (target: string, z: number) => (isPpl(target) ? Math.expm1(z) : z);

const usable = (r: PredictRecord, o: Required<PredictorOptions>) => o.target in r.measured && o.features.every((f) => Number.isFinite(r.features[f]));

/** At least this many records per fitted coefficient (plus the intercept) before a fit is attempted. */
export const minRecords = (o: PredictorOptions) => o.features.length + 3;

function row(features: Readonly<Record<string, number>>, names: readonly string[]): number[] {
  return names.map((f) => {
    const v = features[f];
    if (!Number.isFinite(v)) throw new Error(`predict: feature "${f}" is missing`);
    return Math.log(Math.max(v, 0) + FEATURE_FLOOR);
  });
}

/** The conformal quantile: the ceil((n + 1)(1 - alpha))-th smallest absolute residual (Infinity if n is too small). */
function conformalQuantile(residuals: readonly number[], alpha: number): number {
  const sorted = residuals.map(Math.abs).sort((a, b) => a - b);
  const k = Math.ceil((sorted.length + 1) * (1 - alpha));
  return k <= sorted.length ? sorted[k - 1] : Infinity;
}

export function fitPredictor(records: readonly PredictRecord[], options: PredictorOptions): Predictor {
  const o = withDefaults(options);
  const rows = records.filter((r) => usable(r, o));
  if (rows.some((r) => isPpl(o.target) && r.measured[o.target] <= -1)) throw new Error(`predict ${o.target}: a relative perplexity change must be > -1`);
  if (rows.length < minRecords(o)) {
    throw new Error(`predict ${o.target}: ${rows.length} usable records, need at least ${minRecords(o)} (features ${o.features.join(', ')})`);
  }
  const X = rows.map((r) => row(r.features, o.features));
  const y = rows.map((r) => Math.asinh(forward(o.target, r.measured[o.target]) / o.delta));
  const model: LinearModel = fitRidge(X, y, o.lambda);
  const residuals = rows.map((_, i) => {
    const m = fitRidge(X.filter((_, k) => k !== i), y.filter((_, k) => k !== i), o.lambda);
    return y[i] - predictLinear(m, X[i]);
  });
  const q = conformalQuantile(residuals, o.alpha);
  const back = (t: number) => inverse(o.target, o.delta * Math.sinh(t));
  return {
    options: o,
    n: rows.length,
    predict(features) {
      const t = predictLinear(model, row(features, o.features));
      return { value: back(t), lo: back(t - q), hi: back(t + q), level: 1 - o.alpha };
    },
  };
}

export interface HeldOutReport {
  target: string;
  features: readonly string[];
  n: number;
  /** Spearman rank correlation between held-out predictions and measured values. */
  spearman: number;
  /** Fraction of held-out measured values inside their predicted interval, and the nominal level. */
  coverage: number;
  level: number;
  rows: { recipeHash: string; label: string; measured: number; predicted: number; lo: number; hi: number }[];
}

/**
 * Leave-one-out: predict each record from a predictor fitted on all the others (its interval from their own
 * leave-one-out residuals), never from a fit that saw it.
 */
export function heldOut(records: readonly PredictRecord[], options: PredictorOptions): HeldOutReport {
  const o = withDefaults(options);
  const rows = records.filter((r) => usable(r, o));
  const out = rows.map((r, i) => {
    const p = fitPredictor(rows.filter((_, k) => k !== i), o).predict(r.features);
    return { recipeHash: r.recipeHash, label: r.label, measured: r.measured[o.target], predicted: p.value, lo: p.lo, hi: p.hi };
  });
  return {
    target: o.target, features: o.features, n: out.length,
    spearman: spearman(out.map((r) => r.predicted), out.map((r) => r.measured)),
    coverage: out.filter((r) => r.lo <= r.measured && r.measured <= r.hi).length / out.length,
    level: 1 - o.alpha,
    rows: out,
  };
}
