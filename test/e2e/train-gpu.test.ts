// The WebGPU training loop inside Chromium (the modules served by Vite as the app loads them): a few
// AdamW steps of stories260K on TinyStories text lower the loss, as in Node with Dawn.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';
import { chromiumSuite, startLab, type Lab } from './harness';

const SEQUENCES = 2, SEQ_LEN = 32, STEPS = 6;

chromiumSuite('WebGPU training in Chromium', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab('/test/e2e/train-gpu.html');
  });
  afterAll(async () => {
    await lab?.close();
  });

  it(`${STEPS} AdamW steps on a TinyStories batch lower its cross-entropy`, async () => {
    const model = await loadStoriesGguf();
    const text = readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 5000);
    const ids = createTokenizer(model.tokenizer!).encode(text).slice(0, SEQUENCES * SEQ_LEN + 1);
    const batch = { tokens: ids.slice(0, -1), targets: ids.slice(1) };
    const out = await lab!.page.evaluate(async ({ batch, steps, sequences, seqLen }) => {
      // built from a string so vitest's SSR transform of import() does not reach into the page
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [{ loadModel }, { blobSource }, { GpuTrainer }, { requestGpuDevice }] = await Promise.all([
        imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/gpu/train/trainer.ts'), imp('/src/gpu/device.ts'),
      ]);
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const model = await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]]));
      const trainer = await GpuTrainer.create(await requestGpuDevice(), model, { sequences, seqLen });
      const losses: number[] = [];
      const norms: number[] = [];
      for (let i = 0; i < steps; i++) {
        const r = await trainer.step(batch, 2e-3);
        losses.push(r.ce);
        norms.push(r.gradNorm);
      }
      const final = (await trainer.backward(batch)).ce;
      trainer.dispose();
      return { losses, norms, final, kernels: trainer.kernels };
    }, { batch, steps: STEPS, sequences: SEQUENCES, seqLen: SEQ_LEN });
    console.log(`Chromium WebGPU training (${out.kernels} kernels), ${SEQUENCES}x${SEQ_LEN} tokens: CE per step ${out.losses.map((v) => v.toFixed(4)).join(' ')} -> ${out.final.toFixed(4)}; grad norms ${out.norms.map((v) => v.toFixed(2)).join(' ')}`);
    expect(out.losses).toHaveLength(STEPS);
    expect(out.losses[0]).toBeGreaterThan(1); // a real model on real text, not a degenerate batch
    expect(out.final).toBeLessThan(out.losses[0] - 0.1);
    expect(out.norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    expect(lab!.pageErrors, lab!.pageErrors.join('\n')).toEqual([]);
  });
}, [STORIES.gguf, STORIES.tinystories]);
