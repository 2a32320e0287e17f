// The lab worker's operations in Node (CPU reference): load stories260K, compress with a registry recipe, evaluate
// base and compressed on real TinyStories text, sensitivity map, exports that load back, cancel. The page in
// Chromium drives the same Workspace through comlink (test/e2e/ui-lab.test.ts).
import { afterAll, expect, it } from 'vitest';
import { dirSource } from '../../node/data-source';
import { fileSource } from '../../node/files';
import { fileBytes } from '../../src/io/hf-export';
import { bytesSource } from '../../src/io/source';
import { loadModel } from '../../src/io/load';
import { catalog } from '../../src/lab/catalog';
import { Workspace } from '../../src/lab/workspace';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';

describeWithShared('lab workspace (worker operations, CPU)', [STORIES.gguf, 'data/tinystories'], () => {
  const ws = new Workspace();
  const data = dirSource(sharedPath('data'));
  afterAll(() => ws.dispose());

  it('lists every pass of the registry with a JSON schema of its params, the task library and the recipes', () => {
    const c = catalog();
    const rtn = c.passes.find((p) => p.id === 'rtn')!;
    expect(rtn.schema.properties!.dtype.default).toBe('int4_g32');
    expect(rtn.schema.properties!.dtype.enum).toContain('q8_0');
    expect(c.passes.map((p) => p.id)).toEqual(expect.arrayContaining(['rtn', 'gptq', 'wanda']));
    expect(c.tasks.map((t) => t.id)).toEqual(expect.arrayContaining(['tinystories', 'arc_easy']));
    expect(c.recipes.find((r) => r.file === 'q8_0')?.name).toBe('q8_0');
  });

  it('loads, compresses to q8_0, evaluates both and the compressed model is smaller and about as good', async () => {
    const info = await ws.load(new Map([['stories260K.gguf', fileSource(sharedPath(STORIES.gguf))]]), {});
    expect(info.architecture).toBe('llama');
    expect(await ws.baseSha256()).toMatch(/^[0-9a-f]{64}$/);
    const stages: string[] = [];
    const s = await ws.compress(catalog().recipes.find((r) => r.file === 'q8_0')!.json, data, { onProgress: (p) => stages.push(p.stage) });
    expect(s.bytes).toBeLessThan(s.baseBytes * 0.5);
    expect(s.dtypes.q8_0).toBeGreaterThan(0);
    expect(stages.some((x) => x.includes('rtn'))).toBe(true);
    const base = await ws.evaluate('base', { tasks: ['tinystories'], limit: 1, data }, {});
    const comp = await ws.evaluate('compressed', { tasks: ['tinystories'], limit: 1, data, kld: true }, {});
    const ppl = (r: typeof base) => r.tasks[0].metrics.perplexity.value;
    expect(ppl(base)).toBeGreaterThan(1);
    expect(Math.abs(ppl(comp) / ppl(base) - 1)).toBeLessThan(0.02);
    expect(comp.distribution!.kldMean).toBeLessThan(0.01);
    expect(comp.cost.bytesOnDisk).toBeLessThan(base.cost.bytesOnDisk);
    expect(comp.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exports GGUF, safetensors and the lab artifact that load back; ONNX writes a transformers.js folder', async () => {
    const [gguf] = await ws.exportFiles('compressed', 'gguf');
    expect(gguf.path).toMatch(/\.gguf$/);
    const back = await loadModel(new Map([[gguf.path, bytesSource(fileBytes(gguf), gguf.path)]]));
    expect(back.tensors.get('model.layers.0.self_attn.q_proj.weight')!.dtype).toBe('q8_0');
    const hf = (await ws.exportFiles('compressed', 'safetensors')).map((f) => f.path);
    expect(hf).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json']));
    const onnx = (await ws.exportFiles('compressed', 'onnx')).map((f) => f.path);
    expect(onnx).toEqual(expect.arrayContaining(['onnx/model.onnx', 'onnx/model_q4.onnx']));
    const a = ws.artifact('compressed');
    const lab = await loadModel(new Map([[a.name, bytesSource(a.bytes, a.name)]]));
    expect(lab.source.format).toBe('lab');
  });

  it('measures a per-tensor sensitivity map: q4_0 moves the distribution more than q8_0', async () => {
    const q4 = await ws.sensitivity('q4_0', data, {});
    const q8 = await ws.sensitivity('q8_0', data, {});
    expect(q4.length).toBeGreaterThan(30);
    expect(q4.find((c) => c.kind === 'q_proj' && c.layer === 0)).toBeDefined();
    const sum = (cs: typeof q4) => cs.reduce((s, c) => s + c.kld, 0);
    expect(sum(q4)).toBeGreaterThan(4 * sum(q8));
  });

  it('names the problem for an unknown task and stops when cancelled', async () => {
    await expect(ws.evaluate('base', { tasks: ['nope'], limit: 1, data }, {})).rejects.toThrow(/unknown task "nope"/);
    await expect(ws.exportFiles('base', 'zip' as never)).rejects.toThrow(/unknown export format "zip"/);
    const ac = new AbortController();
    ac.abort();
    await expect(ws.compress({ schema: 'lab.recipe/1', name: 'x', passes: [{ pass: 'rtn' }] }, data, { signal: ac.signal })).rejects.toThrow();
  });
});
