// Model-level merging: planning over layers (gradients, slices, frankenmerges), compatibility checks,
// streaming from lazily read files with bounded memory, the recipe pass, the streamed artifact.
import { describe, expect, it } from 'vitest';
import { fileSetFromPath } from '../../node/files';
import { exportHfFolder, fileBytes } from '../../src/io/hf-export';
import { writeLabArtifact } from '../../src/io/lab-artifact';
import { loadModel } from '../../src/io/load';
import { bytesSource } from '../../src/io/source';
import { modelBytes, type Model } from '../../src/model/model';
import { toFloat32 } from '../../src/model/tensor';
import type { TokenizerSpec } from '../../src/model/tokenizer/spec';
import { passes } from '../../src/passes/index';
import { checkTokenizers } from '../../src/passes/merge/compat';
import { linearMerge } from '../../src/passes/merge/linear';
import { planMerge, type ModelResolver } from '../../src/passes/merge/plan';
import { collectMerge, MemoryMeter, runMerge } from '../../src/passes/merge/run';
import { slerp } from '../../src/passes/merge/slerp';
import { parseMergeSpec } from '../../src/passes/merge/spec';
import { memoryStore, openLazyStore, type TensorStore } from '../../src/passes/merge/store';
import { writeMergedArtifact } from '../../src/passes/merge/write-artifact';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesBin, loadStoriesGguf } from '../stories';
import { tinyModel, vocab } from './merge-helpers';

const binFiles = () => new Map([...fileSetFromPath(sharedPath(STORIES.bin)), ...fileSetFromPath(sharedPath(STORIES.tok))]);

/** Byte equality without vitest's element-by-element deep compare (slow on megabytes). */
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const values = (m: Model, name: string) => toFloat32(m.tensors.get(name)!);
const resolverOf = (models: Record<string, Model>): ModelResolver => async (ref) => {
  if (!models[ref]) throw new Error(`no model ${ref}`);
  return memoryStore(models[ref]);
};
const merged = async (spec: unknown, models: Record<string, Model>) => collectMerge(await planMerge(parseMergeSpec(spec), resolverOf(models)));

describe('merge planning over layers', () => {
  const A = tinyModel(1), B = tinyModel(2);

  it('linear over models: every tensor is the weighted average', async () => {
    const out = await merged({ method: 'linear', models: [{ model: 'a', parameters: { weight: 1 } }, { model: 'b', parameters: { weight: 3 } }] }, { a: A, b: B });
    expect(out.tensors.size).toBe(A.tensors.size);
    for (const name of A.tensors.keys()) {
      expect([...values(out, name)]).toEqual([...linearMerge([values(A, name), values(B, name)], [1, 3], true)]);
    }
  });

  it('slerp with a filtered gradient: t runs 0 -> 1 over the layers; embedding at t = 0, head at t = 1', async () => {
    const out = await merged({
      method: 'slerp', baseModel: 'a', models: [{ model: 'a' }, { model: 'b' }],
      parameters: { t: [{ filter: 'self_attn', value: [0, 1] }, { value: 0.5 }] },
    }, { a: A, b: B });
    const q = (l: number) => `model.layers.${l}.self_attn.q_proj.weight`;
    expect([...values(out, q(0))]).toEqual([...values(A, q(0))]);
    expect([...values(out, q(5))]).toEqual([...values(B, q(5))]);
    expect([...values(out, q(2))]).toEqual([...slerp(0.4, values(A, q(2)), values(B, q(2)))]);
    const up = 'model.layers.2.mlp.up_proj.weight';
    expect([...values(out, up)]).toEqual([...slerp(0.5, values(A, up), values(B, up))]);
    expect([...values(out, 'model.embed_tokens.weight')]).toEqual([...slerp(0.5, values(A, 'model.embed_tokens.weight'), values(B, 'model.embed_tokens.weight'))]);
  });

  it('per-model gradients: a weight gradient [1, 0] hands the layers over from a to b', async () => {
    const out = await merged({
      method: 'linear', models: [{ model: 'a', parameters: { weight: [1, 0] } }, { model: 'b', parameters: { weight: [0, 1] } }],
    }, { a: A, b: B });
    const n = 'mlp.down_proj.weight';
    expect([...values(out, `model.layers.0.${n}`)]).toEqual([...values(A, `model.layers.0.${n}`)]);
    expect([...values(out, `model.layers.5.${n}`)]).toEqual([...values(B, `model.layers.5.${n}`)]);
    expect([...values(out, 'lm_head.weight')]).toEqual([...values(B, 'lm_head.weight')]);
  });

  it('passthrough slices stack layers (frankenmerge): a[0,2) + b[1,5) gives 6 layers', async () => {
    const out = await merged({
      method: 'passthrough',
      slices: [{ sources: [{ model: 'a', layerRange: [0, 2] }] }, { sources: [{ model: 'b', layerRange: [1, 5] }] }],
    }, { a: A, b: B });
    expect(out.config.numLayers).toBe(6);
    const n = 'self_attn.v_proj.weight';
    expect([...values(out, `model.layers.1.${n}`)]).toEqual([...values(A, `model.layers.1.${n}`)]);
    expect([...values(out, `model.layers.2.${n}`)]).toEqual([...values(B, `model.layers.1.${n}`)]);
    expect([...values(out, `model.layers.5.${n}`)]).toEqual([...values(B, `model.layers.4.${n}`)]);
    expect([...values(out, 'model.embed_tokens.weight')]).toEqual([...values(A, 'model.embed_tokens.weight')]);
    expect([...values(out, 'model.norm.weight')]).toEqual([...values(B, 'model.norm.weight')]);
    const deep = await merged({ method: 'passthrough', slices: [{ sources: [{ model: 'a', layerRange: [0, 6] }] }, { sources: [{ model: 'a', layerRange: [4, 6] }] }] }, { a: A });
    expect(deep.config.numLayers).toBe(8);
  });

  it('quantized inputs are merged from their dequantized values, into a float type', async () => {
    const q = await passes.rtn.apply(A, passes.rtn.params.parse({ dtype: 'q8_0', embedding: 'q8_0', lmHead: 'q8_0' }), {});
    const out = await merged({ method: 'linear', models: [{ model: 'q', parameters: { weight: 1 } }, { model: 'a', parameters: { weight: 1 } }] }, { q, a: A });
    const n = 'model.layers.1.mlp.gate_proj.weight';
    expect(q.tensors.get(n)!.dtype).toBe('q8_0');
    expect(out.tensors.get(n)!.dtype).toBe('f32');
    expect([...values(out, n)]).toEqual([...linearMerge([values(q, n), values(A, n)], [1, 1], true)]);
  });

  it('dtype sets the storage of the merged tensors', async () => {
    const out = await merged({ method: 'linear', dtype: 'float16', models: [{ model: 'a', parameters: { weight: 1 } }] }, { a: A });
    expect(new Set([...out.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['f16']));
  });
});

describe('merge errors name the problem', () => {
  const A = tinyModel(1), B = tinyModel(2);
  const two = (b: Model) => ({ a: A, b });
  const lin = { method: 'linear', models: [{ model: 'a', parameters: { weight: 1 } }, { model: 'b', parameters: { weight: 1 } }] };

  it('different architectures or tokenizers', async () => {
    await expect(merged(lin, two(tinyModel(3, { hiddenSize: 64, headDim: 16 })))).rejects.toThrow(/b is not the same architecture as a: hiddenSize 64 vs 32/);
    await expect(merged(lin, two(tinyModel(3, { ropeStyle: 'half' })))).rejects.toThrow(/ropeStyle half vs interleaved \(q\/k rows/);
    await expect(merged(lin, two(tinyModel(3, { vocabSize: 100 })))).rejects.toThrow(/vocabSize 100 vs 96/);
    const otherTok = { ...tinyModel(3), tokenizer: { ...vocab(96), pieces: vocab(96).pieces.map((p, i) => (i === 7 ? 'seven' : p)) } as TokenizerSpec };
    await expect(merged(lin, two(otherTok))).rejects.toThrow(/different tokenizers: token 7 is "seven" vs " t7"/);
  });

  it('missing parameters, bad layer ranges, a base that is not merged', async () => {
    await expect(merged({ ...lin, models: [{ model: 'a', parameters: { weight: 1 } }, { model: 'b' }] }, two(B)))
      .rejects.toThrow(/missing required parameter weight for b\.model\.embed_tokens\.weight/);
    await expect(merged({ method: 'slerp', baseModel: 'a', models: [{ model: 'a' }, { model: 'b' }] }, two(B))).rejects.toThrow(/missing required parameter t for model\.embed_tokens\.weight/);
    await expect(merged({ method: 'ties', models: [{ model: 'a', parameters: { weight: 1 } }] }, two(B))).rejects.toThrow(/ties needs base_model/);
    await expect(merged({ method: 'passthrough', slices: [{ sources: [{ model: 'a', layerRange: [0, 9] }] }] }, two(B))).rejects.toThrow(/layerRange \[0,9\] of a runs past its 6 layers/);
    await expect(merged({ method: 'linear', slices: [{ sources: [{ model: 'a', layerRange: [0, 2] }, { model: 'b', layerRange: [0, 3] }] }] }, two(B))).rejects.toThrow(/same number of layers, got 2, 3/);
    expect(() => parseMergeSpec({ method: 'frob', models: [{ model: 'a' }] })).toThrow(/method/);
    expect(() => parseMergeSpec({ method: 'linear' })).toThrow(/exactly one of 'models' or 'slices'/);
  });
});

describe('streaming: lazily read inputs, bounded memory', () => {
  it('merges models read tensor by tensor from their files; the merge never holds more than a few tensors', async () => {
    const models = [1, 2, 3].map((s) => tinyModel(s, { numLayers: 16 }));
    const stores: Record<string, TensorStore> = {};
    for (const [i, m] of models.entries()) {
      const name = `m${i}.safetensors`;
      stores[name] = await openLazyStore(new Map([[name, bytesSource(writeLabArtifact(m), name)]]));
      expect(stores[name].residentBytes).toBe(0);
    }
    const spec = parseMergeSpec({
      method: 'ties', baseModel: 'm0.safetensors',
      models: [{ model: 'm0.safetensors' }, { model: 'm1.safetensors', parameters: { weight: 0.6, density: 0.5 } }, { model: 'm2.safetensors', parameters: { weight: 0.4, density: 0.7 } }],
    });
    const plan = await planMerge(spec, async (ref) => stores[ref]);
    const meter = new MemoryMeter();
    let count = 0;
    for await (const t of runMerge(plan, { meter })) {
      count++;
      expect(t.data.byteLength).toBeGreaterThan(0);
    }
    expect(count).toBe(models[0].tensors.size);
    expect(meter.live).toBe(0);
    const largest = Math.max(...[...models[0].tensors.values()].map((t) => t.data.byteLength));
    // three inputs as f32, the merged f32 and its encoding (+ one raw read in flight)
    expect(meter.peak).toBeLessThanOrEqual(6 * largest);
    expect(meter.peak).toBeLessThan(modelBytes(models[0]) / 8);
    // and the streamed result is the in-memory one
    const inMemory = await collectMerge(await planMerge(spec, resolverOf({ 'm0.safetensors': models[0], 'm1.safetensors': models[1], 'm2.safetensors': models[2] })));
    const lazy = await collectMerge(plan);
    for (const [n, t] of inMemory.tensors) expect(sameBytes(lazy.tensors.get(n)!.data, t.data), n).toBe(true);
  });

  it('the streamed artifact is byte-identical to writing the merged model, and loads back', async () => {
    const A = tinyModel(1), B = tinyModel(2);
    const plan = await planMerge(parseMergeSpec({ method: 'slerp', baseModel: 'a', models: [{ model: 'a' }, { model: 'b' }], parameters: { t: 0.3 } }), resolverOf({ a: A, b: B }));
    const parts: Uint8Array[] = [];
    const n = await writeMergedArtifact(plan, (b) => { parts.push(b.slice()); });
    const streamed = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { streamed.set(p, o); o += p.byteLength; }
    expect(sameBytes(streamed, writeLabArtifact(await collectMerge(plan)))).toBe(true);
    const back = await loadModel(new Map([['x.safetensors', bytesSource(streamed, 'x.safetensors')]]));
    expect(back.config).toEqual(A.config);
    expect(back.tokenizer).toEqual({ ...A.tokenizer, scores: Array.from((A.tokenizer as { scores: number[] }).scores) });
  });
});

describeWithShared('lazy stores over real files', [STORIES.gguf, STORIES.bin, STORIES.tok], () => {
  it('GGUF and llama2.c: every tensor indexed, none resident, each read equals the eager import', async () => {
    const gguf = await openLazyStore(fileSetFromPath(sharedPath(STORIES.gguf)));
    const bin = await openLazyStore(binFiles());
    for (const [store, eager] of [[gguf, await loadStoriesGguf()], [bin, await loadStoriesBin()]] as const) {
      expect(store.residentBytes).toBe(0);
      expect(store.names.length).toBe(eager.tensors.size);
      for (const [name, t] of eager.tensors) expect(sameBytes((await store.load(name)).data, t.data), name).toBe(true);
    }
  });

  it('an HF folder in shards: indexed lazily too; merging it with the GGUF is refused (q/k row order differs)', async () => {
    const gguf = await loadStoriesGguf();
    const folder = new Map(exportHfFolder(gguf, { maxShardBytes: 300_000 }).map((f) => [f.path, bytesSource(fileBytes(f), f.path)]));
    expect([...folder.keys()].filter((n) => n.endsWith('.safetensors')).length).toBeGreaterThan(2);
    const [store, eager] = [await openLazyStore(folder), await loadModel(folder)];
    expect(store.residentBytes).toBe(0);
    for (const [name, t] of eager.tensors) expect(sameBytes((await store.load(name)).data, t.data), name).toBe(true);
    // the GGUF's SentencePiece vocabulary and the folder's tokenizer.json are the same tokens
    expect(() => checkTokenizers([{ ref: 'gguf', store: memoryStore(gguf) }, { ref: 'hf', store }])).not.toThrow();
    const spec = parseMergeSpec({ method: 'linear', models: [{ model: 'gguf', parameters: { weight: 1 } }, { model: 'hf', parameters: { weight: 1 } }] });
    await expect(planMerge(spec, async (ref) => (ref === 'hf' ? store : memoryStore(gguf)))).rejects.toThrow(/hf is not the same architecture as gguf: ropeStyle half vs interleaved/);
  });

  it('a merge can be cancelled between tensors and reports progress', async () => {
    const gguf = await loadStoriesGguf();
    const plan = await planMerge(parseMergeSpec({ method: 'linear', models: [{ model: 'a', parameters: { weight: 1 } }] }), async () => memoryStore(gguf));
    const abort = new AbortController();
    const seen: number[] = [];
    await expect(collectMerge(plan, {
      signal: abort.signal,
      onProgress: (p) => { seen.push(p.done); if (p.done === 3) abort.abort(new Error('stop')); },
    })).rejects.toThrow('stop');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('as a recipe pass: "self" is the model in hand, other models come through the context', async () => {
    const base = await loadStoriesGguf();
    const recipe = parseRecipe({
      schema: 'lab.recipe/1', name: 'self-merge',
      passes: [{ pass: 'merge', params: { method: 'linear', models: [{ model: 'self', parameters: { weight: 1 } }, { model: 'twin.bin', parameters: { weight: 1 } }] } }],
    });
    await expect(runRecipe(base, recipe)).rejects.toThrow(/cannot open twin\.bin: this host gives the pass no model loader/);
    const run = await runRecipe(base, recipe, {
      models: async () => openLazyStore(binFiles()),
    });
    // the same weights (GGUF with its own head, llama2.c tied: the head is read from its embedding) averaged
    // with themselves are themselves
    expect(run.model.config.tieWordEmbeddings).toBe(false);
    for (const [name, t] of base.tensors) expect(sameBytes(run.model.tensors.get(name)!.data, t.data), name).toBe(true);
    expect(run.report[0].entries[0]).toMatchObject({ method: 'linear', layers: 5 });
  });
});
