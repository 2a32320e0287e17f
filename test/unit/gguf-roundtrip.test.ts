import { expect, it } from 'vitest';
import { exportGguf } from '../../src/io/gguf-export';
import { loadModel } from '../../src/io/load';
import { bytesSource } from '../../src/io/source';
import { encode, type DTypeId } from '../../src/model/dtype';
import type { Model } from '../../src/model/model';
import { makeTensor, toFloat32, type Tensor } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { argmax } from '../../src/runtime/sampling';
import { describeWithShared, STORIES } from '../fixtures';
import { loadStoriesBin, loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

const reload = (bytes: Uint8Array, name = 'x.gguf') => loadModel(new Map([[name, bytesSource(bytes, name)]]));

/** Every 2-D weight stored as `dtype` (norms stay f32, as llama.cpp's quantize does). */
function quantized(model: Model, dtype: DTypeId): Model {
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.tensors) {
    tensors.set(name, t.shape.length === 2 ? makeTensor(name, t.shape, dtype, encode(dtype, toFloat32(t))) : t);
  }
  return { ...model, tensors };
}

describeWithShared('GGUF writer and quantized GGUF reading', [STORIES.gguf, STORIES.bin, STORIES.tok, STORIES.reference], () => {
  const prompt = () => referenceCase('Once upon a time').prompt_tokens;

  it('f32 export of the llama2.c model reloads bit-identical, tokenizer included', async () => {
    const bin = await loadStoriesBin();
    const back = await reload(exportGguf(bin, 'stories260K'));
    expect(back.config).toEqual({ ...bin.config, maxPositions: bin.config.maxPositions });
    for (const [name, t] of bin.tensors) expect(back.tensors.get(name)!.data).toEqual(t.data);
    const tokA = createTokenizer(bin.tokenizer!), tokB = createTokenizer(back.tokenizer!);
    const text = 'Once upon a time, a cat named “Tom” ate 3 pies.';
    expect(tokB.encode(text)).toEqual(tokA.encode(text));
  });

  // Bounds measured on this fixture (tiny models are fragile: ~0.2 logit at q8_0, ~4 at q4_0).
  for (const [dtype, tol] of [['q8_0', 0.4], ['q4_0', 8]] as const) {
    it(`${dtype}: GGUF tensors decode to exactly what was encoded, logits stay near f32`, async () => {
      const base = await loadStoriesGguf();
      const q = quantized(base, dtype);
      const bytes = exportGguf(q);
      const back = await reload(bytes);
      const wq = back.tensors.get('model.layers.2.self_attn.q_proj.weight')!;
      expect(wq.dtype).toBe(dtype);
      expect(toFloat32(wq)).toEqual(toFloat32(q.tensors.get(wq.name)!));
      const [lq, lf] = [await new CpuRuntime(back).forward(prompt()), await new CpuRuntime(base).forward(prompt())];
      const d = maxAbsDiff(lq, lf);
      if (dtype === 'q8_0') {
        const last = (x: Float32Array) => argmax(x.subarray(x.length - 512));
        expect(last(lq)).toBe(last(lf));
      }
      console.log(`${dtype} stories260K: ${bytes.length} bytes (f32 GGUF ${exportGguf(base).length}); max |logit diff| vs f32 ${d.toFixed(4)}`);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(tol);
    });
  }
});
