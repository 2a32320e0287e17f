// Sparsifying a task vector before it is merged, as mergekit's sparsify.py: keep the `density` fraction of
// largest |delta| (TIES) or keep each entry with probability `density` (DARE). `rescale` divides the kept
// entries by density, i.e. 1/(1-p) for drop rate p, so the expected delta is unchanged (DARE's point).

export function magnitudeSparsify(delta: Float32Array, density: number, rescale: boolean): Float32Array {
  if (density >= 1) return delta;
  const n = delta.length;
  const k = Math.floor(density * n);
  if (k <= 0) throw new Error(`magnitude sparsification: density ${density} keeps no entry of ${n}`);
  const mags = delta.map(Math.abs);
  const threshold = mags.slice().sort()[n - k];
  // everything above the threshold, then entries equal to it in index order until k are kept
  let room = k;
  for (let i = 0; i < n; i++) if (mags[i] > threshold) room--;
  const scale = rescale ? 1 / density : 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const keep = mags[i] > threshold || (mags[i] === threshold && room-- > 0);
    if (keep) out[i] = delta[i] * scale;
  }
  return out;
}

export function bernoulliSparsify(delta: Float32Array, density: number, rescale: boolean, random: () => number): Float32Array {
  if (density >= 1) return delta;
  const scale = rescale ? 1 / density : 1;
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) if (random() < density) out[i] = delta[i] * scale;
  return out;
}
