import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { writeLabArtifact } from '../../src/io/lab-artifact';
import { loadModel } from '../../src/io/load';
import { bytesSource } from '../../src/io/source';
import { calibrationFromTokens } from '../../src/passes/calibration';
import { canonicalJson } from '../../src/recipe/canonical';
import { recipeHash } from '../../src/recipe/hash';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, REPO, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf, maxAbsDiff, referenceCase } from '../stories';

const gptq4 = {
  schema: 'lab.recipe/1', name: 'g', passes: [{ pass: 'gptq', params: { dtype: 'int4_g32', lmHead: 'int8_g64' } }],
};

describe('recipes', () => {
  it('every named recipe in static/recipes validates', () => {
    const dir = join(REPO, 'static/recipes');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) expect(() => parseRecipe(JSON.parse(readFileSync(join(dir, f), 'utf8')), f), f).not.toThrow();
  });

  it('errors name the step and the field', () => {
    expect(() => parseRecipe({ ...gptq4, passes: [{ pass: 'gptq', params: { dtype: 'int5_g32' } }] })).toThrow(/passes\.0 \(gptq\): dtype/);
    expect(() => parseRecipe({ ...gptq4, passes: [{ pass: 'zip', params: {} }] })).toThrow(/unknown pass "zip"/);
    expect(() => parseRecipe({ ...gptq4, schema: 'lab.recipe/9' })).toThrow(/schema/);
    expect(() => parseRecipe({ ...gptq4, passes: [] })).toThrow(/passes/);
  });

  it('hash: defaults filled in, key order and naming do not matter; base and substance do', () => {
    const a = parseRecipe(gptq4);
    const b = parseRecipe({ passes: [{ params: { lmHead: 'int8_g64', dtype: 'int4_g32', damp: 0.01 }, pass: 'gptq' }], name: 'other', schema: 'lab.recipe/1' });
    const base = 'ab'.repeat(32);
    expect(recipeHash(base, a)).toBe(recipeHash(base, b));
    expect(recipeHash('cd'.repeat(32), a)).not.toBe(recipeHash(base, a));
    expect(recipeHash(base, parseRecipe({ ...gptq4, calibration: { seed: 2 } }))).not.toBe(recipeHash(base, a));
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
  });
});

describeWithShared('running a recipe', [STORIES.gguf, STORIES.tinystories, STORIES.reference], () => {
  it('is deterministic (same artifact sha256 twice) and the lab artifact round-trips the quantized model', async () => {
    const model = await loadStoriesGguf();
    const tokens = createTokenizer(model.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(200_000, 260_000));
    const calibration = calibrationFromTokens(tokens, 8, 64, 1, 1, 'test');
    const recipe = parseRecipe(gptq4);
    const progress: string[] = [];
    const a = await runRecipe(model, recipe, { calibration, onProgress: (p) => progress.push(p.stage) });
    const b = await runRecipe(model, recipe, { calibration });
    const [fa, fb] = [writeLabArtifact(a.model), writeLabArtifact(b.model)];
    expect(sha256OfBytes(fa)).toBe(sha256OfBytes(fb));
    expect(progress.some((s) => s.startsWith('1/1 gptq'))).toBe(true);
    expect(a.report[0].pass).toBe('gptq');

    const back = await loadModel(new Map([['m.safetensors', bytesSource(fa, 'm.safetensors')]]));
    expect(back.source.format).toBe('lab');
    expect(back.tensors.get('model.layers.0.self_attn.q_proj.weight')!.dtype).toBe('int4_g32');
    const prompt = referenceCase('Once upon a time').prompt_tokens;
    expect(maxAbsDiff(await new CpuRuntime(back).forward(prompt), await new CpuRuntime(a.model).forward(prompt))).toBe(0);
    expect(createTokenizer(back.tokenizer!).encode('Once upon a time')).toEqual(prompt);
  });

  it('refuses a calibrated pass without calibration data', async () => {
    await expect(runRecipe(await loadStoriesGguf(), parseRecipe(gptq4))).rejects.toThrow(/needs calibration data/);
  });
});
