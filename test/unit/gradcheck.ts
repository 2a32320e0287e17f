// Central finite differences for the backward tests: the one check the op-level and whole-model gradient
// tests share, so both mean the same thing by "relative error".
/**
 * Relative error ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) over the coordinates `idx` of `x`:
 * numeric = (L(x+h) − L(x−h)) / (the step f32 actually took), h = 2^-8, L recomputed by `loss`; each
 * coordinate is restored after use.
 */
export function gradError(x: Float32Array, analytic: Float32Array, idx: Iterable<number>, loss: () => number): number {
  let num2 = 0, ana2 = 0, diff2 = 0;
  for (const i of idx) {
    const x0 = x[i];
    x[i] = x0 + 2 ** -8;
    const up = x[i], lp = loss();
    x[i] = x0 - 2 ** -8;
    const down = x[i], lm = loss();
    x[i] = x0;
    const numeric = (lp - lm) / (up - down);
    num2 += numeric ** 2;
    ana2 += analytic[i] ** 2;
    diff2 += (numeric - analytic[i]) ** 2;
  }
  return Math.sqrt(diff2) / Math.max(Math.sqrt(num2), Math.sqrt(ana2), 1e-12);
}

/** Zeroed gradient buffers made on first use, the way backwardModel asks for them, and the map they fill. */
export function gradientSink(weights: ReadonlyMap<string, Float32Array>): { grads: Map<string, Float32Array>; grad: (name: string) => Float32Array } {
  const grads = new Map<string, Float32Array>();
  const grad = (name: string) => {
    if (!grads.has(name)) grads.set(name, new Float32Array(weights.get(name)!.length));
    return grads.get(name)!;
  };
  return { grads, grad };
}
