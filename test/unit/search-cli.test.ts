// `lab search` and `lab predict` end to end on stories260K, in a deliberately small space (RTN, two dtypes and
// one mixed plan, 2 evaluation chunks) so that it stays quick; the search itself is tested in search-stories.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/schema';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { labWithTimeout } from '../cli';

const lab = labWithTimeout(400_000);

describe('lab search / lab predict: bad input', () => {
  it('names the problem before loading anything', async () => {
    let r = await lab('search', 'm.gguf', '--task', 'ppl about 5');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected <task>:<metric><=\+X%/);
    r = await lab('search', 'm.gguf', '--task', 'kld<=0.1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/measures one task's perplexity/);
    r = await lab('search', 'm.gguf', '--methods', 'zip');
    expect(r.stderr).toMatch(/--methods: "zip" is not one of rtn, hqq, gptq, awq/);
    r = await lab('search', 'm.gguf', '--objective', 'fastest');
    expect(r.stderr).toMatch(/--objective: "fastest" is not min-ppl or min-bytes/);
    r = await lab('search', 'm.gguf', '--objective', 'min-bytes');
    expect(r.stderr).toMatch(/min-bytes needs a quality limit/);
    r = await lab('search', 'm.gguf', '--max-ram', 'lots');
    expect(r.stderr).toMatch(/--max-ram: "lots" is not a byte size/);
    r = await lab('predict', 'm.gguf');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--recipe is required/);
  });
});

describeWithShared('lab search / lab predict on stories260K', [STORIES.gguf, STORIES.tinystories], () => {
  it('search writes the best recipe under the bytes; predict reads it back and reports its features', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-search-cli-'));
    const common = ['--records', join(dir, 'records.json'), '--chunks', '2', '--json'];
    const s = await lab('search', sharedPath(STORIES.gguf), '--max-bytes', '290KB', '--task', 'tinystories:ppl<=+8%', '--methods', 'rtn', '--dtypes', 'q4_0,int4_g32',
      '--sparsity', 'none', '--max-evals', '2', '--state', join(dir, 'state.json'), '--out', join(dir, 'best.json'), ...common);
    expect(s.code, s.stderr).toBe(0);
    const out = JSON.parse(s.stdout);
    expect(out.request).toEqual({ maxBytes: 290_000, limits: [{ target: 'tinystories:ppl', max: 0.08 }], objective: 'tinystories:ppl', goal: 'min-ppl' });
    expect(out.candidates).toBe(3);
    expect(out.evaluated).toHaveLength(2);
    expect(out.best.bytes).toBeLessThanOrEqual(290_000);
    expect(out.best.measured['tinystories:ppl']).toBeLessThanOrEqual(0.08);
    for (const e of out.evaluated) expect(out.best.measured['tinystories:ppl']).toBeLessThanOrEqual(e.measured['tinystories:ppl']);
    const recipe = parseRecipe(JSON.parse(readFileSync(join(dir, 'best.json'), 'utf8')));
    expect(recipe.name).toBe(out.best.name);

    const p = await lab('predict', sharedPath(STORIES.gguf), '--recipe', join(dir, 'best.json'), ...common);
    expect(p.code, p.stderr).toBe(0);
    const pred = JSON.parse(p.stdout);
    expect(pred.bytes).toBe(out.best.bytes);
    expect(pred.features.probeKld).toBeGreaterThan(0);
    // the search stored its two evaluations; a fitted predictor needs five (the recipe's own record excluded)
    expect(pred.missing[0]).toMatch(/tinystories:ppl: 1 stored records, need 5/);
  });

  it('search --objective min-bytes --max-ram: the smallest recipe within the perplexity limit, RAM screened out first', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-search-cli-'));
    // 2.95 MB of RAM at the model's 2,048 positions leaves 319,088 B for weights beside the KV cache (2,621,440 B)
    // and activations (9,472 B): int8 (364,768 B) is out before anything runs
    const s = await lab('search', sharedPath(STORIES.gguf), '--objective', 'min-bytes', '--task', 'tinystories:ppl<=+6%', '--max-ram', '2.95MB',
      '--methods', 'gptq', '--dtypes', 'int3_g32,q4_0,int8_g64', '--sparsity', 'none', '--max-evals', '3', '--chunks', '2',
      '--records', join(dir, 'records.json'), '--state', join(dir, 'state.json'), '--out', join(dir, 'best.json'), '--json');
    expect(s.code, s.stderr).toBe(0);
    const out = JSON.parse(s.stdout);
    expect(out.request).toEqual({ maxRamBytes: 2_950_000, limits: [{ target: 'tinystories:ppl', max: 0.06 }], objective: 'tinystories:ppl', goal: 'min-bytes' });
    expect(out.candidates).toBe(4); // three dtypes and one mixed plan at the 319,088 B the RAM bound leaves
    expect(out.rejected).toEqual([{ name: 'gptq int8_g64', reason: 'RAM 2995680 B (estimated, 2048 positions) > 2950000 B' }]);
    expect(out.best.measured['tinystories:ppl']).toBeLessThanOrEqual(0.06);
    expect(out.best.ram).toBeLessThanOrEqual(2_950_000);
    const met = out.evaluated.filter((e: { measured: Record<string, number> }) => e.measured['tinystories:ppl'] <= 0.06);
    for (const e of met) expect(out.best.bytes).toBeLessThanOrEqual(e.bytes);
    expect(parseRecipe(JSON.parse(readFileSync(join(dir, 'best.json'), 'utf8'))).name).toBe(out.best.name);
  });
});
