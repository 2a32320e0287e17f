// A structurally pruned model in onnxruntime-web inside Chromium: stories260K cut down in the page by the
// named recipe structured-heads-ffn-layers (KV groups, FFN channels and a layer, scored on a short calibration
// text), exported as model.onnx (fp32), run on the wasm and WebGPU execution providers (prefill, then decode
// through the KV cache), against our CPU reference of the same smaller model.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORIES } from '../fixtures';
import { referenceCase } from '../stories';
import { chromiumSuite, startLab, type Lab } from './harness';

chromiumSuite('structurally pruned ONNX export in onnxruntime-web (Chromium)', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('the smaller config loads and matches our CPU logits on wasm and webgpu', async () => {
    const c = referenceCase('Once upon a time');
    const tokens = [...c.prompt_tokens, ...c.generated_tokens];
    const r = await lab!.page.evaluate(async ({ tokens }) => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [ort, { loadModel }, { blobSource }, { CpuRuntime }, { exportOnnxVariant }, { OrtDecoder }, { parseRecipe }, { runRecipe }] = await Promise.all([
        imp('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs'),
        imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/runtime/cpu-reference.ts'), imp('/src/io/onnx/export.ts'),
        imp('/src/io/onnx/ort-decoder.ts'), imp('/src/recipe/schema.ts'), imp('/src/recipe/runner.ts'),
      ]);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
      ort.env.logLevel = 'error';
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const base = await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]]));
      const recipe = parseRecipe(await (await fetch('/recipes/structured-heads-ffn-layers.json')).json(), 'structured-heads-ffn-layers');
      const calibration = { sequences: [tokens.slice(0, 64)], description: 'reference prompt + continuation, 64 tokens' };
      const { model } = await runRecipe(base, recipe, { calibration });
      const run = async (rt: { forward(t: number[]): Promise<Float32Array> }, seq: number[]) => {
        const parts = [await rt.forward(seq.slice(0, 12))];
        for (let i = 12; i < seq.length; i++) parts.push(await rt.forward([seq[i]]));
        const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
        parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
        return out;
      };
      const seq = tokens.slice(0, 20);
      const ours = await run(new CpuRuntime(model, { maxPositions: 64 }), seq);
      const onnx = exportOnnxVariant(model, 'fp32', {}).files[0].parts[0] as Uint8Array;
      const diff: Record<string, number> = {};
      for (const ep of ['wasm', 'webgpu']) {
        const dec = await OrtDecoder.create(ort, onnx, model.config, { executionProvider: ep, maxPositions: 64 });
        const theirs = await run(dec, seq);
        dec.dispose();
        let m = 0;
        for (let i = 0; i < theirs.length; i++) m = Math.max(m, Math.abs(theirs[i] - ours[i]));
        diff[ep] = m;
      }
      return { config: model.config, onnxBytes: onnx.byteLength, denseOnnxBytes: (exportOnnxVariant(base, 'fp32', {}).files[0].parts[0] as Uint8Array).byteLength, diff };
    }, { tokens });
    console.log(`pruned stories260K (${r.config.numLayers} layers, ${r.config.numHeads}/${r.config.numKvHeads} heads, ffn ${r.config.intermediateSize}): model.onnx ${r.denseOnnxBytes} -> ${r.onnxBytes} bytes; `
      + `max |ORT-web - ours (CPU)|: wasm ${r.diff.wasm.toExponential(2)}, webgpu ${r.diff.webgpu.toExponential(2)}`);
    expect(r.config).toMatchObject({ numLayers: 4, numHeads: 6, numKvHeads: 3, intermediateSize: 129, headDim: 8 });
    expect(r.onnxBytes).toBeLessThan(r.denseOnnxBytes * 0.8);
    expect(r.diff.wasm).toBeLessThanOrEqual(1e-3);
    expect(r.diff.webgpu).toBeLessThanOrEqual(1e-3);
    // onnxruntime's own warnings (node placement) are logged as console errors; anything else is a failure
    expect(lab!.pageErrors.filter((e) => !e.includes('[W:onnxruntime'))).toEqual([]);
  });
}, [STORIES.reference]);
