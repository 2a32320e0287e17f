// Our ONNX export, made and run inside Chromium: stories260K's model.onnx (fp32) and model_q4.onnx
// (MatMulNBits, 4-bit, block 32) in onnxruntime-web on the wasm and WebGPU execution providers, prompt
// prefill and then token-by-token decode through the KV cache, against our own WebGPU forward of the same
// (identically quantized) model; then model_fp16.onnx (float16 throughout) and model_quantized.onnx (Q8_0 as
// 8-bit MatMulNBits) on both providers against our WebGPU forward of the same f16 / Q8_0 weights.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORIES } from '../fixtures';
import { referenceCase } from '../stories';
import { chromiumSuite, startLab, type Lab } from './harness';

interface VariantResult {
  variant: string;
  onnxBytes: number;
  quantized: number;
  /** Max |ORT - ours (WebGPU)| over every logit of prefill and decode, per execution provider. */
  diff: Record<string, number>;
  /** Our WebGPU forward vs our CPU reference, the yardstick. */
  gpuVsCpu: number;
  argmaxAgree: Record<string, number>;
  positions: number;
}

chromiumSuite('ONNX export in onnxruntime-web (Chromium)', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('model.onnx and model_q4.onnx match our WebGPU logits on the wasm and webgpu providers', async () => {
    // ONNX Runtime logs (verbose, webgpu sessions only) each node its WebGPU provider has no kernel for
    const fallbacks = new Set<string>();
    lab!.page.on('console', (m) => {
      const hit = /webgpu kernel not found in registries for Op type: (\w+)/.exec(m.text());
      if (hit) fallbacks.add(hit[1]);
    });
    const c = referenceCase('Once upon a time');
    const tokens = [...c.prompt_tokens, ...c.generated_tokens].slice(0, 24);
    const prefill = 16;
    const results: VariantResult[] = await lab!.page.evaluate(async ({ tokens, prefill }) => {
      // built from a string so vitest's SSR transform of import() does not reach into the page
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [ort, { loadModel }, { blobSource }, { CpuRuntime }, { WebGpuRuntime }, { requestGpuDevice }, { convertRopeStyle },
        { exportOnnxVariant, defaultQ4 }, { OrtDecoder }] = await Promise.all([
        imp('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs'),
        imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/runtime/cpu-reference.ts'), imp('/src/runtime/webgpu.ts'),
        imp('/src/gpu/device.ts'), imp('/src/model/rope-permute.ts'), imp('/src/io/onnx/export.ts'), imp('/src/io/onnx/ort-decoder.ts'),
      ]);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
      ort.env.logLevel = 'error';
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const base = await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]]));
      const half = convertRopeStyle(base, 'half');
      const q4 = await defaultQ4(half);
      const device = await requestGpuDevice();
      const maxDiff = (a: Float32Array, b: Float32Array) => {
        let m = 0;
        for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
      };
      const argmax = (a: Float32Array, row: number, V: number) => {
        let best = 0;
        for (let i = 1; i < V; i++) if (a[row * V + i] > a[row * V + best]) best = i;
        return best;
      };
      /** Logits of every position: the first `prefill` tokens in one call, then one token per call. */
      const run = async (rt: { forward(t: number[]): Promise<Float32Array> }) => {
        const parts = [await rt.forward(tokens.slice(0, prefill))];
        for (let i = prefill; i < tokens.length; i++) parts.push(await rt.forward([tokens[i]]));
        const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
        let at = 0;
        for (const p of parts) {
          out.set(p, at);
          at += p.length;
        }
        return out;
      };
      const results = [];
      for (const [variant, model] of [['fp32', half], ['q4', q4]] as const) {
        const set = exportOnnxVariant(model, variant, {});
        const onnx: Uint8Array = set.files[0].parts[0];
        const gpu = await WebGpuRuntime.create(device, model, { maxPositions: 64 });
        const ours = await run(gpu);
        gpu.dispose();
        const cpu = await run(new CpuRuntime(model, { maxPositions: 64 }));
        const V = model.config.vocabSize;
        const diff: Record<string, number> = {}, argmaxAgree: Record<string, number> = {};
        for (const ep of ['wasm', 'webgpu']) {
          const dec = await OrtDecoder.create(ort, onnx, model.config, {
            executionProvider: ep, maxPositions: 64, sessionOptions: ep === 'webgpu' ? { logSeverityLevel: 0 } : {},
          });
          const theirs = await run(dec);
          dec.dispose();
          diff[ep] = maxDiff(theirs, ours);
          argmaxAgree[ep] = tokens.filter((_, r) => argmax(theirs, r, V) === argmax(ours, r, V)).length / tokens.length;
        }
        results.push({ variant, onnxBytes: onnx.byteLength, quantized: set.signature.quantized.length, diff, gpuVsCpu: maxDiff(ours, cpu), argmaxAgree, positions: tokens.length });
      }
      return results;
    }, { tokens, prefill });

    for (const r of results) {
      console.log(`Chromium onnxruntime-web ${r.variant} (${r.onnxBytes} bytes, ${r.quantized} MatMulNBits): max |ORT - ours(WebGPU)| over ${r.positions} positions: `
        + `wasm ${r.diff.wasm.toExponential(2)}, webgpu ${r.diff.webgpu.toExponential(2)} (ours WebGPU vs CPU ${r.gpuVsCpu.toExponential(2)})`);
    }
    console.log(`ops the webgpu provider ran on its CPU fallback: ${[...fallbacks].sort().join(', ') || 'none'}`);
    expect(fallbacks.has('MatMulNBits'), 'MatMulNBits must run on the GPU (uint4 zero points)').toBe(false);
    const [fp32, q4] = results;
    expect(fp32.quantized).toBe(0);
    expect(q4.quantized).toBe(30); // q k v o gate up in 5 layers; down_proj (172 inputs) stays f16 -> f32 MatMul
    expect(q4.onnxBytes).toBeLessThan(fp32.onnxBytes * 0.6);
    for (const ep of ['wasm', 'webgpu']) {
      expect(fp32.diff[ep], `fp32 ${ep}`).toBeLessThanOrEqual(1e-3);
      expect(q4.diff[ep], `q4 ${ep}`).toBeLessThanOrEqual(2e-2);
      expect(fp32.argmaxAgree[ep]).toBe(1);
    }
  });

  it('model_fp16.onnx and model_quantized.onnx (q8) match our WebGPU logits on the wasm and webgpu providers', async () => {
    const fallbacks = new Set<string>();
    lab!.page.on('console', (m) => {
      const hit = /webgpu kernel not found in registries for Op type: (\w+)/.exec(m.text());
      if (hit) fallbacks.add(hit[1]);
    });
    const c = referenceCase('Once upon a time');
    const tokens = [...c.prompt_tokens, ...c.generated_tokens].slice(0, 24);
    const results = await lab!.page.evaluate(async ({ tokens, prefill }) => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [ort, { loadModel }, { blobSource }, { WebGpuRuntime }, { requestGpuDevice }, { convertRopeStyle },
        { exportOnnxVariant }, { defaultQ8 }, { OrtDecoder }, { encode }, { makeTensor, toFloat32 }] = await Promise.all([
        imp('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs'),
        imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/runtime/webgpu.ts'), imp('/src/gpu/device.ts'),
        imp('/src/model/rope-permute.ts'), imp('/src/io/onnx/export.ts'), imp('/src/io/onnx/q8-weights.ts'),
        imp('/src/io/onnx/ort-decoder.ts'), imp('/src/model/dtype.ts'), imp('/src/model/tensor.ts'),
      ]);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
      ort.env.logLevel = 'error';
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const half = convertRopeStyle(await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]])), 'half');
      const f16 = { ...half, tensors: new Map([...half.tensors].map(([n, t]: [string, any]) => [n, t.shape.length === 2 ? makeTensor(n, t.shape, 'f16', encode('f16', toFloat32(t))) : t])) };
      const q8 = await defaultQ8(half);
      const device = await requestGpuDevice();
      const run = async (rt: { forward(t: number[]): Promise<Float32Array> }) => {
        const parts = [await rt.forward(tokens.slice(0, prefill))];
        for (let i = prefill; i < tokens.length; i++) parts.push(await rt.forward([tokens[i]]));
        const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
        parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
        return out;
      };
      const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
      const out = [];
      for (const [variant, model, ref] of [['fp16', half, f16], ['q8', q8, q8]] as const) {
        const set = exportOnnxVariant(model, variant);
        const gpu = await WebGpuRuntime.create(device, ref, { maxPositions: 64 });
        const ours = await run(gpu);
        gpu.dispose();
        const diff: Record<string, number | string> = {};
        for (const ep of ['wasm', 'webgpu']) {
          try {
            const dec = await OrtDecoder.create(ort, set.files[0].parts[0], model.config, {
              executionProvider: ep, maxPositions: 64, floatType: set.signature.floatType, sessionOptions: ep === 'webgpu' ? { logSeverityLevel: 0 } : {},
            });
            diff[ep] = maxDiff(await run(dec), ours);
            dec.dispose();
          } catch (e) {
            diff[ep] = String((e as Error).message ?? e);
          }
        }
        out.push({ variant, onnxBytes: set.files[0].bytes, quantized: set.signature.quantized.length, diff, f16: !!(await navigator.gpu.requestAdapter())?.features.has('shader-f16') });
      }
      return out;
    }, { tokens, prefill: 16 });
    for (const r of results) {
      console.log(`Chromium onnxruntime-web ${r.variant} (${r.onnxBytes} bytes, ${r.quantized} MatMulNBits, adapter shader-f16: ${r.f16}): `
        + `max |ORT - ours(WebGPU, same weights)| wasm ${r.diff.wasm}, webgpu ${r.diff.webgpu}`);
    }
    console.log(`ops the webgpu provider ran on its CPU fallback: ${[...fallbacks].sort().join(', ') || 'none'}`);
    const [fp16, q8] = results;
    expect(q8.quantized).toBe(31); // q k v o gate up in 5 layers + lm_head; down_proj (172 inputs) stays f32
    expect(fallbacks.has('MatMulNBits'), '8-bit MatMulNBits must run on the GPU').toBe(false);
    for (const ep of ['wasm', 'webgpu']) expect(q8.diff[ep], `q8 ${ep}`).toBeLessThanOrEqual(1e-3);
    expect(fp16.diff.wasm, 'fp16 wasm').toBeLessThanOrEqual(5e-2);
    if (fp16.f16) {
      expect(fp16.diff.webgpu, 'fp16 webgpu').toBeLessThanOrEqual(5e-2);
    } else {
      // float16 kernels need the adapter's shader-f16 feature, which SwiftShader lacks: the refusal must say so
      console.warn('fp16 on the webgpu provider not compared: this adapter has no shader-f16 (SwiftShader); a GPU adapter runs it');
      expect(fp16.diff.webgpu).toMatch(/requires f16 but the device does not support it/);
    }
  });
}, [STORIES.reference]);
