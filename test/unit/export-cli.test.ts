// `lab export` as a user runs it (a real child process): a transformers.js folder with all four decoder variants
// whose model.onnx runs in onnxruntime-node with our logits, a Q8_0 GGUF that re-imports to exactly the tensors
// of the same round-to-nearest pass, an f16 HF folder that loads back; bad flags named in the error.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, expect, it } from 'vitest';
import { fileSetFromPath } from '../../node/files';
import { loadModel } from '../../src/io/load';
import { OrtDecoder, type OrtModule } from '../../src/io/onnx/ort-decoder';
import { passes } from '../../src/passes/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { lab } from '../cli';
import { loadStoriesGguf, maxAbsDiff } from '../stories';


describeWithShared('lab export', [STORIES.gguf], () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const model = sharedPath(STORIES.gguf);
  const tokens = [1, 403, 407, 261, 378, 426, 33, 300];

  it('--format onnx writes the transformers.js folder with every variant; model.onnx computes our logits', async () => {
    const r = await lab('export', model, '--format', 'onnx', '--out', join(dir, 'onnx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.files.map((f: { path: string }) => f.path).sort()).toEqual([
      'config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx',
      'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json',
    ]);
    expect(readdirSync(join(dir, 'onnx/onnx')).sort()).toEqual(['model.onnx', 'model_fp16.onnx', 'model_q4.onnx', 'model_quantized.onnx']);
    const base = await loadStoriesGguf();
    const onnx = new Uint8Array(readFileSync(join(dir, 'onnx/onnx/model.onnx')));
    const session = await OrtDecoder.create(ort as unknown as OrtModule, onnx, base.config, { executionProvider: 'cpu' });
    expect(maxAbsDiff(await session.forward(tokens), await new CpuRuntime(base).forward(tokens))).toBeLessThan(1e-4);
    session.dispose();
  });

  it('--format gguf --dtype q8_0 re-imports to exactly the RTN q8_0 tensors; --format hf --dtype f16 loads back', async () => {
    const r = await lab('export', model, '--format', 'gguf', '--dtype', 'q8_0', '--out', join(dir, 'q8.gguf'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const back = await loadModel(fileSetFromPath(join(dir, 'q8.gguf')));
    const base = await loadStoriesGguf();
    const want = await passes.rtn.apply(base, passes.rtn.params.parse({ dtype: 'q8_0', embedding: 'q8_0', lmHead: 'q8_0' }), {});
    for (const [name, t] of want.tensors) {
      const got = back.tensors.get(name)!;
      expect([got.dtype, got.shape], name).toEqual([t.dtype, t.shape]);
      expect(Buffer.from(got.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
    expect(back.tokenizer).toEqual(base.tokenizer);

    const h = await lab('export', model, '--format', 'hf', '--dtype', 'f16', '--out', join(dir, 'hf'));
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/wrote 5 file\(s\)/);
    const hf = await loadModel(fileSetFromPath(join(dir, 'hf')));
    expect(new Set([...hf.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['f16', 'f32']));
    expect(maxAbsDiff(await new CpuRuntime(hf).forward(tokens), await new CpuRuntime(base).forward(tokens))).toBeLessThan(5e-2);
  });

  it('bad flags: clear messages, exit code 2', async () => {
    const fmt = await lab('export', model, '--format', 'tflite', '--out', join(dir, 'x'));
    expect([fmt.code, fmt.stderr]).toEqual([2, expect.stringMatching(/--format must be one of onnx, gguf, hf/)]);
    const dtype = await lab('export', model, '--format', 'onnx', '--dtype', 'fp32,int3', '--out', join(dir, 'y'));
    expect([dtype.code, dtype.stderr]).toEqual([2, expect.stringMatching(/--dtype int3: use one of fp32, fp16, q4, q8/)]);
  });
});
