// Decode throughput of our WebGPU forward vs onnxruntime-web's WebGPU provider on the same model, in one
// Chromium page: stories260K (or any model file the dev server serves) exported by our ONNX exporter: fp32,
// q4 (4-bit MatMulNBits) and q8 (Q8_0 as 8-bit MatMulNBits) against our identically quantized model, and fp16
// (float16 graph) against our runtime on the same f16 weights where the adapter has shader-f16. Each runtime
// is timed only after its prompt logits agree with the other's. ORT keeps its KV cache on the GPU between steps, as transformers.js does.
//   node --import ./node/register.mjs bench/cli/onnx.ts [--prompt 32] [--decode 64] [--repeats 3]
import { startLab } from '../test/e2e/harness';

export interface OnnxBenchOptions {
  promptTokens: number;
  decodeTokens: number;
  /** Timed repeats after one warm-up; the median is reported. */
  repeats: number;
  /** Served path of the model (default: the bundled stories260K). */
  modelUrl?: string;
  variants?: readonly ('fp32' | 'q4' | 'q8' | 'fp16')[];
}

export interface OnnxBenchRow {
  variant: string;
  runtime: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

export interface OnnxBenchResult {
  model: string;
  adapter: string;
  options: OnnxBenchOptions;
  rows: OnnxBenchRow[];
  /** ours / ORT decode tokens/s, per variant. */
  ratio: Record<string, number>;
  /** max |ours - ORT| over the prompt's logits, per variant (checked before timing). */
  check: Record<string, number>;
  /** Variants not run, and why (fp16 on an adapter without shader-f16). */
  skipped: Record<string, string>;
}

export async function benchOnnx(opts: OnnxBenchOptions): Promise<OnnxBenchResult> {
  const lab = await startLab();
  try {
    // tsx (esbuild keepNames) wraps named functions in __name(...), which the page does not define
    await lab.page.evaluate('globalThis.__name = (f) => f');
    const args = { ...opts, modelUrl: opts.modelUrl ?? '/models/stories260K.gguf', variants: [...(opts.variants ?? ['fp32', 'q4', 'q8', 'fp16'])] };
    const out = await lab.page.evaluate(async (o) => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [ort, { loadModel }, { blobSource }, { WebGpuRuntime }, { requestGpuDevice, describeAdapter }, { convertRopeStyle },
        { exportOnnxVariant, defaultQ4 }, { defaultQ8 }, { OrtDecoder }, { generate }, { encode }, { makeTensor, toFloat32 }] = await Promise.all([
        imp('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs'),
        imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/runtime/webgpu.ts'), imp('/src/gpu/device.ts'),
        imp('/src/model/rope-permute.ts'), imp('/src/io/onnx/export.ts'), imp('/src/io/onnx/q8-weights.ts'), imp('/src/io/onnx/ort-decoder.ts'),
        imp('/src/runtime/generate.ts'), imp('/src/model/dtype.ts'), imp('/src/model/tensor.ts'),
      ]);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
      ort.env.logLevel = 'error';
      const name = o.modelUrl.split('/').pop()!;
      const blob = await (await fetch(o.modelUrl)).blob();
      const half = convertRopeStyle(await loadModel(new Map([[name, blobSource(blob, name)]])), 'half');
      const device = await requestGpuDevice();
      const V = half.config.vocabSize;
      const prompt = Array.from({ length: o.promptTokens }, (_, i) => (i === 0 ? (half.config.bosTokenId ?? 1) : (i * 37 + 11) % V));
      const maxPositions = o.promptTokens + o.decodeTokens + 1;
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const time = async (rt: unknown) => {
        const runs = [];
        for (let r = 0; r <= o.repeats; r++) runs.push(await generate(rt, prompt, { maxNewTokens: o.decodeTokens }));
        runs.shift(); // warm-up
        return { prefill: median(runs.map((x: any) => x.prefillTokensPerSecond)), decode: median(runs.map((x: any) => x.decodeTokensPerSecond)) };
      };
      const rows = [], ratio: Record<string, number> = {}, check: Record<string, number> = {}, skipped: Record<string, string> = {};
      const hasF16 = !!(await navigator.gpu.requestAdapter())?.features.has('shader-f16');
      // fp16: our runtime on the same f16 weights (f32 math) vs ORT's float16 graph, so a looser check
      const f16 = () => ({ ...half, tensors: new Map([...half.tensors].map(([n, t]: [string, any]) => [n, t.shape.length === 2 ? makeTensor(n, t.shape, 'f16', encode('f16', toFloat32(t))) : t])) });
      for (const variant of o.variants) {
        if (variant === 'fp16' && !hasF16) {
          skipped.fp16 = 'the WebGPU adapter has no shader-f16, which onnxruntime-web needs for float16 kernels';
          continue;
        }
        const model = variant === 'q4' ? await defaultQ4(half) : variant === 'q8' ? await defaultQ8(half) : variant === 'fp16' ? f16() : half;
        const set = exportOnnxVariant(variant === 'fp16' ? half : model, variant);
        const ours = await WebGpuRuntime.create(device, model, { maxPositions });
        const theirs = await OrtDecoder.create(ort, set.files[0].parts[0], model.config, {
          executionProvider: 'webgpu', kvOnGpu: true, maxPositions, floatType: set.signature.floatType,
        });
        const a: Float32Array = await ours.forward(prompt), b: Float32Array = await theirs.forward(prompt);
        let d = 0;
        for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        const tol = variant === 'fp16' ? 5e-2 : 1e-3;
        if (!(d <= tol)) throw new Error(`${variant}: ORT and our logits differ by ${d} (> ${tol}): not timing a wrong result`);
        check[variant] = d;
        const t1 = await time(ours), t2 = await time(theirs);
        rows.push({ variant, runtime: 'ours (WebGPU)', prefillTokensPerSecond: t1.prefill, decodeTokensPerSecond: t1.decode });
        rows.push({ variant, runtime: 'onnxruntime-web (webgpu EP)', prefillTokensPerSecond: t2.prefill, decodeTokensPerSecond: t2.decode });
        ratio[variant] = t1.decode / t2.decode;
        ours.dispose();
        theirs.dispose();
      }
      const ad = describeAdapter(device);
      return { model: name, adapter: [ad.vendor, ad.architecture, ad.description].filter(Boolean).join(' / '), rows, ratio, check, skipped };
    }, args);
    return { ...out, options: opts };
  } finally {
    await lab.close();
  }
}

export function formatOnnxTable(r: OnnxBenchResult): string {
  const lines = [
    `${r.model} in Chromium (${r.adapter}), prompt ${r.options.promptTokens}, decode ${r.options.decodeTokens}, median of ${r.options.repeats}`,
    'variant | runtime                      | prefill tok/s | decode tok/s',
    '--------|------------------------------|---------------|-------------',
    ...r.rows.map((x) => `${x.variant.padEnd(7)} | ${x.runtime.padEnd(28)} | ${x.prefillTokensPerSecond.toFixed(1).padStart(13)} | ${x.decodeTokensPerSecond.toFixed(1).padStart(12)}`),
    ...Object.entries(r.ratio).map(([v, x]) => `${v}: ours / onnxruntime-web decode = ${x.toFixed(2)}x (logits checked, max |diff| ${r.check[v].toExponential(2)})`),
    ...Object.entries(r.skipped).map(([v, why]) => `${v}: not run: ${why}`),
  ];
  return lines.join('\n');
}
