// HF folder export (safetensors + config.json + tokenizer files): our importer reads it back to the same
// model, transformers.js's config and tokenizer readers accept it, and shards split by size.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeExportFiles } from '../../node/export-dir';
import { fileSetFromPath } from '../../node/files';
import { exportHfFolder, fileBytes, llamaTokenizerConfig, llamaTokenizerJson } from '../../src/io/hf-export';
import { loadModel } from '../../src/io/load';
import { defaultQ4 } from '../../src/io/onnx/export';
import type { Model } from '../../src/model/model';
import { convertRopeStyle } from '../../src/model/rope-permute';
import { toFloat32 } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import type { TokenizerSpec } from '../../src/model/tokenizer/spec';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, STORIES } from '../fixtures';
import { loadReference, loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

describeWithShared('HF folder export', [STORIES.gguf, STORIES.reference], () => {
  let root: string;
  let base: Model;
  const tokens = () => [...referenceCase('Once upon a time').prompt_tokens, ...referenceCase('Once upon a time').generated_tokens].slice(0, 24);
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lab-hf-'));
    base = await loadStoriesGguf();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('re-imports to the same tensors (q/k in rotate_half order) and the same logits', async () => {
    const dir = join(root, 'fp');
    const files = exportHfFolder(base);
    expect(files.map((f) => f.path)).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']);
    writeExportFiles(dir, files);
    const back = await loadModel(fileSetFromPath(dir));
    expect(back.source.format).toBe('safetensors');
    expect(back.config).toEqual({ ...base.config, ropeStyle: 'half' });
    const half = convertRopeStyle(base, 'half');
    expect([...back.tensors.keys()].sort()).toEqual([...half.tensors.keys()].sort());
    for (const [name, t] of half.tensors) {
      expect(back.tensors.get(name)!.dtype, name).toBe(t.dtype);
      expect(Buffer.from(back.tensors.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
    expect(maxAbsDiff(await new CpuRuntime(back).forward(tokens()), await new CpuRuntime(base).forward(tokens()))).toBeLessThan(1e-5);
    // the tokenizer comes back as tokenizer.json and encodes/decodes as the GGUF vocabulary does
    expect(back.tokenizer?.kind).toBe('hf');
    const ours = createTokenizer(base.tokenizer!), theirs = createTokenizer(back.tokenizer!);
    for (const ex of loadReference().tokenizer_examples) expect(theirs.encode(ex.text), ex.text).toEqual(ours.encode(ex.text));
    const c = referenceCase('Once upon a time');
    expect(theirs.decode([...c.prompt_tokens, ...c.generated_tokens])).toBe(c.text);
  });

  it('a 4-bit model exports dequantized (HF has no such dtype) and computes what it computed', async () => {
    const q4 = await defaultQ4(base);
    const dir = join(root, 'q4');
    writeExportFiles(dir, exportHfFolder(q4));
    const back = await loadModel(fileSetFromPath(dir));
    expect(new Set([...back.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['f32', 'f16']));
    expect(maxAbsDiff(await new CpuRuntime(back).forward(tokens()), await new CpuRuntime(q4).forward(tokens()))).toBeLessThan(1e-5);
  });

  it('shards by size with model.safetensors.index.json', async () => {
    const dir = join(root, 'sharded');
    const files = exportHfFolder(base, { maxShardBytes: 300 * 1024 });
    const shards = files.filter((f) => f.path.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThan(2);
    expect(shards[0].path).toBe(`model-00001-of-0000${shards.length}.safetensors`);
    const index = JSON.parse(new TextDecoder().decode(fileBytes(files.find((f) => f.path === 'model.safetensors.index.json')!)));
    expect(Object.keys(index.weight_map).length).toBe(base.tensors.size);
    writeExportFiles(dir, files);
    const back = await loadModel(fileSetFromPath(dir));
    for (const [name, t] of convertRopeStyle(base, 'half').tensors) expect(maxAbsDiff(toFloat32(back.tensors.get(name)!), toFloat32(t)), name).toBe(0);
  });

  it("transformers.js's config and tokenizer readers accept the folder", async () => {
    const { env, AutoConfig, AutoTokenizer } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = root;
    const config = await AutoConfig.from_pretrained('fp') as unknown as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'llama', num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512 });
    const tok = await AutoTokenizer.from_pretrained('fp');
    const ours = createTokenizer(base.tokenizer!);
    for (const ex of loadReference().tokenizer_examples) {
      expect(Array.from(tok(ex.text).input_ids.data as BigInt64Array, Number), ex.text).toEqual(ours.encode(ex.text));
    }
    const c = referenceCase('Once upon a time');
    expect(tok.decode([...c.prompt_tokens, ...c.generated_tokens], { skip_special_tokens: true })).toBe(c.text);
    expect(JSON.parse(readFileSync(join(root, 'fp/generation_config.json'), 'utf8'))).toMatchObject({ bos_token_id: 1, eos_token_id: 2 });
  });
});

it('the tokenizer.json of a vocabulary without token types or dummy prefix', () => {
  const spec: Extract<TokenizerSpec, { kind: 'spm' }> = {
    kind: 'spm', pieces: ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), 'a', 'b', 'ab', ' ', ' ab'],
    scores: [0, 0, 0, ...Array(256).fill(0), -1, -2, -3, -4, -5], bosId: 1, eosId: 2, unkId: 0, addDummyPrefix: false, spaceSymbol: ' ',
  };
  const json = llamaTokenizerJson(spec) as { model: { merges: string[][] }; added_tokens: { id: number }[] };
  expect(json.model.merges).toEqual([['a', 'b'], ['\u2581', 'ab']]);
  expect(json.added_tokens.map((t) => t.id)).toEqual([0, 1, 2]);
  const tok = createTokenizer({ kind: 'hf', tokenizerJson: json, tokenizerConfig: llamaTokenizerConfig(spec, 128) });
  const spm = createTokenizer(spec);
  for (const s of ['ab ab', 'b a', 'abc é']) expect(tok.encode(s), s).toEqual(spm.encode(s));
});
