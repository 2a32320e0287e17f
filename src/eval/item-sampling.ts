// seed -> item subset, reproducible by anyone: SHA-256 of "<seed>/<task id>" seeds xoshiro128**, which drives a
// partial Fisher-Yates shuffle. Only integer arithmetic, so Node, browsers and other languages agree bit for bit.

export async function seedWords(seed: string): Promise<Uint32Array> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(seed));
  return new Uint32Array(digest.slice(0, 16));
}

/** xoshiro128** (Blackman & Vigna), returning uint32. */
export function xoshiro128(state: Uint32Array): () => number {
  const s = Uint32Array.from(state);
  if (!s.some((x) => x !== 0)) s[0] = 1;
  const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

/** Unbiased integer in [0, n) by rejection (Lemire's bound check kept simple). */
function below(next: () => number, n: number): number {
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const x = next();
    if (x < limit) return x % n;
  }
}

/** `k` distinct indices of [0, total), in ascending order; all of them when k >= total. */
export async function sampleItems(total: number, k: number, seed: string): Promise<number[]> {
  if (k >= total) return Array.from({ length: total }, (_, i) => i);
  const next = xoshiro128(await seedWords(seed));
  const idx = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + below(next, total - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}
