// The core modules themselves, run inside Chromium (served by Vite exactly as the app loads them):
// WebGPU logits against the CPU reference, greedy generation on both, and seeded item selection
// agreeing with Node's bit for bit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sampleItems } from '../../src/eval/item-sampling';
import { STORIES } from '../fixtures';
import { referenceCase } from '../stories';
import { chromiumSuite, startLab, type Lab } from './harness';

chromiumSuite('core modules in Chromium', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('WebGPU logits match the CPU reference over 64 tokens; greedy generation is identical', async () => {
    const c = referenceCase('Once upon a time');
    const tokens = [...c.prompt_tokens, ...c.generated_tokens].slice(0, 64);
    const out = await lab!.page.evaluate(async ({ tokens, prompt }) => {
      // built from a string so vitest's SSR transform of import() does not reach into the page
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [{ loadModel }, { blobSource }, { CpuRuntime }, { WebGpuRuntime }, { requestGpuDevice }, { generate }] = await Promise.all([
        imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/runtime/cpu-reference.ts'),
        imp('/src/runtime/webgpu.ts'), imp('/src/gpu/device.ts'), imp('/src/runtime/generate.ts'),
      ]);
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const model = await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]]));
      const cpu = new CpuRuntime(model, { maxPositions: 128 });
      const gpu = await WebGpuRuntime.create(await requestGpuDevice(), model, { maxPositions: 128 });
      const a: Float32Array = await cpu.forward(tokens);
      const b: Float32Array = await gpu.forward(tokens);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      const greedyCpu = (await generate(cpu, prompt, { maxNewTokens: 64 })).tokens;
      const greedyGpu = (await generate(gpu, prompt, { maxNewTokens: 64 })).tokens;
      gpu.dispose();
      return { maxDiff, n: a.length, greedyCpu, greedyGpu };
    }, { tokens, prompt: c.prompt_tokens });
    console.log(`Chromium: CPU vs WebGPU logits over 64 tokens, max |diff| ${out.maxDiff.toExponential(2)}`);
    expect(out.n).toBe(64 * 512);
    expect(out.maxDiff).toBeLessThanOrEqual(1e-3);
    expect(out.greedyGpu).toEqual(out.greedyCpu);
    expect(out.greedyCpu.slice(0, c.generated_tokens.length)).toEqual(c.generated_tokens);
  });

  it('the same seed selects the same items in Chromium as in Node; another seed, others', async () => {
    const inPage = await lab!.page.evaluate(async () => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const { sampleItems } = await imp('/src/eval/item-sampling.ts');
      return [await sampleItems(1000, 20, 'epoch-7/hellaswag'), await sampleItems(1000, 20, 'epoch-8/hellaswag')];
    });
    expect(inPage[0]).toEqual(await sampleItems(1000, 20, 'epoch-7/hellaswag'));
    expect(inPage[1]).toEqual(await sampleItems(1000, 20, 'epoch-8/hellaswag'));
    expect(inPage[0]).not.toEqual(inPage[1]);
  });
}, [STORIES.reference]);
