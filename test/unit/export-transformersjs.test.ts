// transformers.js (in Node, on onnxruntime-node) loads our exported folder from disk, with no hub, and
// greedy-generates exactly what our own runtime generates, for every variant: model.onnx (fp32), model_fp16.onnx
// (our runtime on the same f16 weights), model_q4.onnx and model_quantized.onnx (q8: our runtime on the Q8_0 model).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeExportFiles } from '../../node/export-dir';
import { defaultQ4, exportTransformersJs } from '../../src/io/onnx/export';
import { defaultQ8 } from '../../src/io/onnx/q8-weights';
import { encode } from '../../src/model/dtype';
import { makeTensor, toFloat32 } from '../../src/model/tensor';
import type { Model } from '../../src/model/model';
import { convertRopeStyle } from '../../src/model/rope-permute';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { generate } from '../../src/runtime/generate';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesGguf, referenceCase } from '../stories';

const STEPS = 32;

describeWithShared('transformers.js loads the exported folder', [STORIES.gguf, STORIES.reference], () => {
  let root: string;
  const ours: Record<string, Model> = {};
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lab-tjs-'));
    const base = convertRopeStyle(await loadStoriesGguf(), 'half');
    ours.fp32 = base;
    // model_fp16.onnx holds every weight in f16: our runtime on those same weights is the reference
    ours.fp16 = { ...base, tensors: new Map([...base.tensors].map(([n, t]) => [n, makeTensor(n, t.shape, 'f16', encode('f16', toFloat32(t)))])) };
    ours.q4 = await defaultQ4(base);
    ours.q8 = await defaultQ8(base);
    writeExportFiles(join(root, 'stories260K'), await exportTransformersJs(base, { q4Model: ours.q4, q8Model: ours.q8 }));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the transformers.js layout', () => {
    const cfg = JSON.parse(readFileSync(join(root, 'stories260K/config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'llama', num_key_value_heads: 4, num_attention_heads: 8, head_dim: 8 });
    for (const f of ['onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      expect(readFileSync(join(root, 'stories260K', f)).byteLength, f).toBeGreaterThan(0);
    }
  });

  for (const dtype of ['fp32', 'fp16', 'q4', 'q8'] as const) {
    it(`${dtype}: greedy-generates the same ${STEPS} tokens as our runtime`, async () => {
      const { env, AutoTokenizer, AutoModelForCausalLM } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = root;
      env.useFSCache = false;
      const tokenizer = await AutoTokenizer.from_pretrained('stories260K');
      const model = await AutoModelForCausalLM.from_pretrained('stories260K', { dtype, device: 'cpu' });
      const c = referenceCase('Once upon a time');
      const enc = tokenizer('Once upon a time');
      const promptIds = Array.from(enc.input_ids.data as BigInt64Array, Number);
      expect(promptIds).toEqual(c.prompt_tokens);
      const out = await model.generate({ ...enc, max_new_tokens: STEPS, min_new_tokens: STEPS, do_sample: false });
      const theirs = Array.from((out as { data: BigInt64Array }).data, Number).slice(promptIds.length);
      const mine = (await generate(new CpuRuntime(ours[dtype]), promptIds, { maxNewTokens: STEPS })).tokens;
      console.log(`transformers.js ${dtype}: ${theirs.length} tokens, ours ${mine.length}; text: ${JSON.stringify(tokenizer.decode(theirs))}`);
      expect(mine).toHaveLength(STEPS);
      expect(theirs).toEqual(mine);
      if (dtype === 'fp32') expect(theirs.slice(0, c.generated_tokens.length)).toEqual(c.generated_tokens.slice(0, STEPS));
      await model.dispose();
    });
  }
});
