// mergekit YAML in, our JSON recipe out: the examples in static/recipes (mergekit's own README configs) give
// the same merge either way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMergekitYaml, toMergekitYaml } from '../../src/io/mergekit-yaml';
import { toFloat32 } from '../../src/model/tensor';
import { planMerge } from '../../src/passes/merge/plan';
import { collectMerge } from '../../src/passes/merge/run';
import { slerp } from '../../src/passes/merge/slerp';
import type { MergeSpec } from '../../src/passes/merge/spec';
import { memoryStore } from '../../src/passes/merge/store';
import { parseRecipe } from '../../src/recipe/schema';
import { REPO } from '../fixtures';
import { tinyModel } from './merge-helpers';

const recipes = join(REPO, 'static/recipes');
const yamlOf = (name: string) => parseMergekitYaml(readFileSync(join(recipes, `${name}.yaml`), 'utf8'), `${name}.yaml`);
const jsonOf = (name: string) => parseRecipe(JSON.parse(readFileSync(join(recipes, `${name}.json`), 'utf8')), `${name}.json`).passes[0].params as MergeSpec;

const MODELS = {
  'stories260K.gguf': tinyModel(10, { numLayers: 5 }),
  'stories260K-wikitext.safetensors': tinyModel(11, { numLayers: 5 }),
  'stories260K-tinystories.safetensors': tinyModel(12, { numLayers: 5 }),
  'stories260K-mix.safetensors': tinyModel(13, { numLayers: 5 }),
};
const run = async (spec: MergeSpec) => collectMerge(await planMerge(spec, async (ref) => memoryStore(MODELS[ref as keyof typeof MODELS])));

describe('mergekit YAML', () => {
  for (const name of ['merge-slerp', 'merge-ties']) {
    it(`${name}.yaml parses to the spec of ${name}.json, and both merge to the same bytes`, async () => {
      const fromYaml = yamlOf(name), fromJson = jsonOf(name);
      expect(fromYaml).toEqual(fromJson);
      const [a, b] = [await run(fromYaml), await run(fromJson)];
      expect(a.tensors.size).toBe(b.tensors.size);
      for (const [n, t] of a.tensors) expect(Buffer.from(t.data).equals(Buffer.from(b.tensors.get(n)!.data)), n).toBe(true);
      expect(parseMergekitYaml(toMergekitYaml(fromYaml))).toEqual(fromYaml);
    });
  }

  it('the SLERP example interpolates attention along its gradient and stores bfloat16', async () => {
    const out = await run(yamlOf('merge-slerp'));
    const w = MODELS['stories260K-wikitext.safetensors'], s = MODELS['stories260K-tinystories.safetensors'];
    const name = 'model.layers.2.self_attn.k_proj.weight'; // layer 2 of 5: t = 0.5 on [0, 0.5, 0.3, 0.7, 1] -> 0.3
    const want = slerp(0.3, toFloat32(w.tensors.get(name)!), toFloat32(s.tensors.get(name)!));
    const got = toFloat32(out.tensors.get(name)!);
    expect(out.tensors.get(name)!.dtype).toBe('bf16');
    want.forEach((x, i) => expect(Math.abs(got[i] - x)).toBeLessThanOrEqual(Math.abs(x) / 128)); // bf16: 8 significant bits
  });

  it('refuses what it cannot do faithfully, by name', () => {
    const ok = 'merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n';
    expect(parseMergekitYaml(ok).models).toEqual([{ model: 'a', parameters: { weight: 1 } }]);
    expect(() => parseMergekitYaml('models: [a\n', 'x.yaml')).toThrow(/x\.yaml: not valid YAML/);
    expect(() => parseMergekitYaml(`${ok}foo: 1\n`)).toThrow(/unknown key "foo"/);
    expect(() => parseMergekitYaml(ok.replace('linear', 'model_stock'))).toThrow(/merge_method "model_stock" is not supported \(supported: linear, slerp/);
    expect(() => parseMergekitYaml(`${ok}tokenizer_source: union\n`)).toThrow(/tokenizer_source "union" is not supported/);
    expect(() => parseMergekitYaml(`${ok}modules: {}\n`)).toThrow(/modules is not supported/);
    expect(() => parseMergekitYaml('merge_method: linear\nslices:\n  - sources: [{model: a, layer_range: [0, 2]}]\n    residual_weight: 0.1\n')).toThrow(/residual_weight is not supported/);
    expect(() => parseMergekitYaml('merge_method: linear\nslices:\n  - sources: [{model: a, layer_range: [2, 2]}]\n')).toThrow(/layerRange must be \[start, end\)/);
    expect(() => parseMergekitYaml('merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: [{filter: mlp}]}\n')).toThrow(/models\.0\.parameters\.weight/);
    expect(parseMergekitYaml(`${ok}out_dtype: float16\ndtype: float32\ntokenizer_source: base\n`).dtype).toBe('float16');
  });
});
