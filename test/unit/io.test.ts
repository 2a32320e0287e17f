import { expect, it } from 'vitest';
import { loadModel } from '../../src/io/load';
import { bytesSource, type ByteSource } from '../../src/io/source';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { hfConfigFrom } from '../../src/io/hf-config';
import { convertRopeStyle } from '../../src/model/rope-permute';
import type { Model } from '../../src/model/model';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, readShared, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

const files = (...list: [string, Uint8Array][]) =>
  new Map<string, ByteSource>(list.map(([n, b]) => [n, bytesSource(b, n)]));
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const prompt = () => referenceCase('Once upon a time').prompt_tokens;

async function logits(model: Model) {
  return new CpuRuntime(model).forward(prompt());
}

/** An HF checkout of `model`: q/k permuted to rotate_half order, config.json, one or more shards. */
function toHfFiles(model: Model, shards = 1): Map<string, ByteSource> {
  const hf = convertRopeStyle(model, 'half');
  const all = [...hf.tensors.values()];
  const out: [string, Uint8Array][] = [['config.json', json(hfConfigFrom(hf.config))]];
  if (shards === 1) {
    out.push(['model.safetensors', writeSafetensors(all)]);
  } else {
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const name = `model-0000${s + 1}-of-0000${shards}.safetensors`;
      const part = all.filter((_, i) => i % shards === s);
      for (const t of part) weightMap[t.name] = name;
      out.push([name, writeSafetensors(part)]);
    }
    out.push(['model.safetensors.index.json', json({ metadata: {}, weight_map: weightMap })]);
  }
  return files(...out);
}

describeWithShared('model importers', [STORIES.gguf, STORIES.bin, STORIES.tok, STORIES.reference], () => {
  it('reads stories260K GGUF metadata into the canonical config', async () => {
    const m = await loadStoriesGguf();
    expect(m.config).toMatchObject({
      architecture: 'llama', hiddenSize: 64, intermediateSize: 172, numLayers: 5, numHeads: 8, numKvHeads: 4,
      headDim: 8, vocabSize: 512, ropeStyle: 'interleaved', rmsNormEps: 1e-5, ropeTheta: 10000, bosTokenId: 1, eosTokenId: 2,
    });
    expect(m.tensors.get('model.layers.4.mlp.down_proj.weight')!.shape).toEqual([64, 172]);
    expect(m.tokenizer?.kind).toBe('spm');
  });

  it('HF safetensors (rotate_half layout) gives the same logits as GGUF (interleaved layout)', async () => {
    const gguf = await loadStoriesGguf();
    const hf = await loadModel(toHfFiles(gguf));
    expect(hf.config.ropeStyle).toBe('half');
    expect(hf.source.format).toBe('safetensors');
    const d = maxAbsDiff(await logits(gguf), await logits(hf));
    expect(d).toBeLessThan(1e-5);
  });

  it('reads a sharded checkpoint through model.safetensors.index.json', async () => {
    const gguf = await loadStoriesGguf();
    const hf = await loadModel(toHfFiles(gguf, 3));
    expect(hf.source.name).toBe('3 shards');
    expect(maxAbsDiff(await logits(gguf), await logits(hf))).toBeLessThan(1e-5);
  });

  it('reads qwen2-style qkv bias and untied heads from HF config', async () => {
    const gguf = await loadStoriesGguf();
    const withBias = new Map(gguf.tensors);
    const f = toHfFiles(gguf);
    const cfg = { ...hfConfigFrom({ ...gguf.config, ropeStyle: 'half' }), model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] };
    delete (cfg as Record<string, unknown>).attention_bias;
    const hf = convertRopeStyle(gguf, 'half');
    const biases = [];
    for (let l = 0; l < 5; l++) {
      for (const [p, n] of [['q', 64], ['k', 32], ['v', 32]] as const) {
        const name = `model.layers.${l}.self_attn.${p}_proj.bias`;
        const data = new Float32Array(n).map((_, i) => Math.sin(i + l) * 0.1);
        biases.push({ name, shape: [n], dtype: 'f32' as const, data: new Uint8Array(data.buffer) });
      }
    }
    f.set('config.json', bytesSource(json(cfg), 'config.json'));
    f.set('model.safetensors', bytesSource(writeSafetensors([...hf.tensors.values(), ...biases]), 'model.safetensors'));
    const qwen = await loadModel(f);
    expect(qwen.config.architecture).toBe('qwen2');
    expect(qwen.config.attentionBias).toBe(true);
    const a = await logits(qwen), b = await logits(gguf);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3); // the bias must actually be applied
    expect(withBias.size).toBe(gguf.tensors.size);
  });
});

describeWithShared('bad input gets a clear error', [STORIES.gguf, STORIES.bin, STORIES.tok], () => {
  const gguf = () => readShared(STORIES.gguf);

  it('random bytes named .gguf: bad magic', async () => {
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919) & 255);
    await expect(loadModel(files(['bad.gguf', junk]))).rejects.toThrow(/bad\.gguf: not a valid GGUF file: .*magic/);
  });

  it('truncated GGUF: in the header and in the tensor data', async () => {
    const g = gguf();
    await expect(loadModel(files(['cut.gguf', g.subarray(0, 5000)]))).rejects.toThrow(/cut\.gguf: not a valid GGUF file: header is truncated/);
    await expect(loadModel(files(['cut.gguf', g.subarray(0, g.length - 100)]))).rejects.toThrow(/cut\.gguf: .*truncated: tensor/);
  });

  it('wrong architecture names the architecture found', async () => {
    const g = gguf().slice();
    const text = new TextDecoder('latin1').decode(g.subarray(0, 14000));
    const at = text.indexOf('general.architecture') + 'general.architecture'.length + 4 + 8; // key, type u32, len u64
    expect(new TextDecoder().decode(g.subarray(at, at + 5))).toBe('llama');
    g.set(new TextEncoder().encode('bert_'), at);
    await expect(loadModel(files(['bert.gguf', g]))).rejects.toThrow(/unsupported architecture "bert_" in bert\.gguf/);
  });

  it('truncated and inconsistent llama2.c checkpoints', async () => {
    const b = readShared(STORIES.bin), tok = readShared(STORIES.tok);
    await expect(loadModel(files(['m.bin', b.subarray(0, 100000)], ['tok512.bin', tok]))).rejects.toThrow(/m\.bin: not a valid llama2\.c file: size 100000 bytes does not match/);
    const bad = b.slice();
    new DataView(bad.buffer).setInt32(8, 0, true); // n_layers = 0
    await expect(loadModel(files(['m.bin', bad]))).rejects.toThrow(/header field nLayers=0 is out of range/);
  });

  it('broken safetensors: bad header length, non-JSON header, data past the end, missing config fields', async () => {
    const cfg = json({ model_type: 'llama', hidden_size: 64 });
    await expect(loadModel(files(['config.json', cfg], ['model.safetensors', new Uint8Array(16)]))).rejects.toThrow(/config\.json: not a valid HF config\.json file: intermediate_size/);
    const good = json(hfConfigFrom((await loadStoriesGguf()).config));
    const huge = new Uint8Array(16); new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    await expect(loadModel(files(['config.json', good], ['model.safetensors', huge]))).rejects.toThrow(/header length .* exceeds the file/);
    const notJson = new Uint8Array(20); new DataView(notJson.buffer).setBigUint64(0, 12n, true); notJson.set(new TextEncoder().encode('{{{{{{{{{{{{'), 8);
    await expect(loadModel(files(['config.json', good], ['model.safetensors', notJson]))).rejects.toThrow(/header is not JSON/);
    const t = writeSafetensors([{ name: 'model.norm.weight', shape: [64], dtype: 'f32', data: new Uint8Array(256) }]);
    await expect(loadModel(files(['config.json', good], ['model.safetensors', t.subarray(0, t.length - 10)]))).rejects.toThrow(/outside the file \(truncated\?\)/);
    await expect(loadModel(files(['config.json', good], ['model.safetensors', t]))).rejects.toThrow(/missing tensor model\.embed_tokens\.weight/);
  });

  it('a file of no known format', async () => {
    await expect(loadModel(files(['notes.txt', new Uint8Array(100)]))).rejects.toThrow(/unrecognised format/);
  });
});
