import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { baseDistribution, klDivergence } from '../../src/eval/kld';
import { sampleItems, xoshiro128 } from '../../src/eval/item-sampling';
import type { Model } from '../../src/model/model';
import { f32Tensor, toFloat32, type Tensor } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { seededRandom } from '../../src/runtime/sampling';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

/** Gaussian noise of relative size `scale` on every 2-D weight. */
function perturbed(model: Model, scale: number, seed = 1): Model {
  const rand = seededRandom(seed);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.tensors) {
    if (t.shape.length !== 2) { tensors.set(name, t); continue; }
    const w = toFloat32(t);
    const rms = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    for (let i = 0; i < w.length; i++) {
      const g = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      w[i] += g * rms * scale;
    }
    tensors.set(name, f32Tensor(name, t.shape, w));
  }
  return { ...model, tensors };
}

describeWithShared('KL divergence against the base model', [STORIES.gguf, STORIES.tinystories], () => {
  it('is 0 with top-1 agreement 1 against itself, and grows with the perturbation', async () => {
    const model = await loadStoriesGguf();
    const tokens = createTokenizer(model.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 8000));
    const base = await baseDistribution(new CpuRuntime(model, { maxPositions: 512 }), tokens, { maxChunks: 2, bosId: 1 });
    expect(base.chunks).toHaveLength(2);
    const self = await klDivergence(new CpuRuntime(model, { maxPositions: 512 }), base);
    expect(self.kldMean).toBe(0);
    expect(self.kldMax).toBe(0);
    expect(self.top1).toBe(1);
    expect(self.tokens).toBe(2 * 255);
    const small = await klDivergence(new CpuRuntime(perturbed(model, 0.02)), base);
    const large = await klDivergence(new CpuRuntime(perturbed(model, 0.2)), base);
    console.log(`KLD vs base: noise 2% mean ${small.kldMean.toExponential(2)} top1 ${small.top1.toFixed(3)}; noise 20% mean ${large.kldMean.toExponential(2)} top1 ${large.top1.toFixed(3)} p99 ${large.kldP99.toFixed(3)} max ${large.kldMax.toFixed(3)}`);
    expect(small.kldMean).toBeGreaterThan(0);
    expect(large.kldMean).toBeGreaterThan(small.kldMean + 3 * large.kldStderr);
    expect(large.top1).toBeLessThan(small.top1);
    expect(small.top1).toBeLessThan(1);
    expect(large.kldP99).toBeGreaterThan(large.kldMean);
    expect(large.kldMax).toBeGreaterThanOrEqual(large.kldP99);
  });
});

describe('seeded item sampling', () => {
  it('xoshiro128** matches the reference implementation for a known state', () => {
    // state {1,2,3,4}, worked by hand from the definition: rotl(2*5, 7)*9 = 11520; then s1 becomes 0 -> 0; ...
    const next = xoshiro128(Uint32Array.from([1, 2, 3, 4]));
    expect([next(), next(), next()]).toEqual([11520, 0, 5927040]);
  });

  it('same seed, same items; another seed, other items; k distinct sorted indices', async () => {
    const a = await sampleItems(1000, 20, 'epoch-7/hellaswag');
    expect(await sampleItems(1000, 20, 'epoch-7/hellaswag')).toEqual(a);
    expect(await sampleItems(1000, 20, 'epoch-8/hellaswag')).not.toEqual(a);
    expect(new Set(a).size).toBe(20);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(a.every((i) => i >= 0 && i < 1000)).toBe(true);
    expect(await sampleItems(5, 10, 'x')).toEqual([0, 1, 2, 3, 4]);
  });

  it('pins the subset for a seed, so other implementations can check theirs', async () => {
    expect(await sampleItems(100, 5, 'lab')).toEqual(PINNED);
  });

  it('is roughly uniform', async () => {
    const counts = new Array(10).fill(0);
    for (let s = 0; s < 400; s++) for (const i of await sampleItems(10, 3, `u${s}`)) counts[i]++;
    for (const c of counts) expect(Math.abs(c - 120)).toBeLessThan(40);
  });
});

// Recorded from this implementation: a regression guard for the cross-party contract.
const PINNED = [34, 39, 54, 56, 64];
