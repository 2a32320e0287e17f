// wllama (llama.cpp compiled to WebAssembly) loads the GGUF files our exporter writes, in Chromium, and
// greedy-generates the same text as our own runtime: stories260K (vocab 512, SentencePiece metadata from
// tok512) as F32, Q8_0 and Q4_0 (the same round-to-nearest tensors our CPU reference runs; llama.cpp's CPU
// kernels quantize activations to Q8_0 for these dot products, ours do not, and the greedy text still agrees). Its wasm is served
// from node_modules by the test's dev server; nothing comes from the network.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORIES } from '../fixtures';
import { chromiumSuite, startLab, type Lab } from './harness';

const STEPS = 32;
const PROMPT = 'Once upon a time';

chromiumSuite('wllama runs our GGUF export (Chromium)', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it(`F32, Q8_0 and Q4_0 GGUF: wllama greedy text equals ours for ${STEPS} tokens`, async () => {
    const results = await lab!.page.evaluate(async ({ prompt, steps }) => {
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const [{ Wllama }, { loadModel }, { blobSource }, { exportGguf }, { rtn }, { CpuRuntime }, { generate }, { createTokenizer }] = await Promise.all([
        imp('/node_modules/@wllama/wllama/esm/index.js'), imp('/src/io/load.ts'), imp('/src/io/source.ts'), imp('/src/io/gguf-export.ts'),
        imp('/src/passes/quant/rtn.ts'), imp('/src/runtime/cpu-reference.ts'), imp('/src/runtime/generate.ts'), imp('/src/model/tokenizer/index.ts'),
      ]);
      const blob = await (await fetch('/models/stories260K.gguf')).blob();
      const base = await loadModel(new Map([['stories260K.gguf', blobSource(blob, 'stories260K.gguf')]]));
      const cast = (dtype: string, lmHead: string) => rtn.apply(base, rtn.params.parse({ dtype, embedding: dtype, lmHead }), {});
      const q8 = await cast('q8_0', 'q8_0'), q4 = await cast('q4_0', 'q8_0'); // as `lab export --dtype q4_0`
      const tok = createTokenizer(base.tokenizer);
      const out = [];
      for (const [name, model] of [['F32', base], ['Q8_0', q8], ['Q4_0', q4]] as const) {
        const bytes: Uint8Array = exportGguf(model, `stories260K-${name}`);
        const ids = tok.encode(prompt);
        const ours = await generate(new CpuRuntime(model), ids, { maxNewTokens: steps });
        const wllama = new Wllama({ default: '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true, allowOffline: true });
        wllama.setCompat(null);
        await wllama.loadModel([new File([bytes as BlobPart], `stories260K-${name}.gguf`)], { n_ctx: 128, n_threads: 1, n_gpu_layers: 0 });
        const res = await wllama.createCompletion({ prompt, max_tokens: steps, temperature: 0 });
        const meta = wllama.getModelMetadata();
        await wllama.exit();
        out.push({
          name, bytes: bytes.byteLength, theirs: res.choices[0].text as string, ours: tok.decode(ours.tokens) as string,
          nVocab: meta.hparams.nVocab, promptTokens: res.usage.prompt_tokens, ourPromptTokens: ids.length, completionTokens: res.usage.completion_tokens,
        });
      }
      return out;
    }, { prompt: PROMPT, steps: STEPS });
    for (const r of results) console.log(`wllama ${r.name} (${r.bytes} bytes, n_vocab ${r.nVocab}): ${JSON.stringify(r.theirs)}\n  ours: ${JSON.stringify(r.ours)}`);
    for (const r of results) {
      expect(r.nVocab).toBe(512);
      expect(r.promptTokens, 'llama.cpp tokenizes the prompt (BOS + pieces) as we do').toBe(r.ourPromptTokens);
      expect(r.completionTokens).toBe(STEPS);
      expect(r.theirs, r.name).toBe(r.ours);
    }
  });
}, [STORIES.reference]);
