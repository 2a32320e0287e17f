import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { lab } from '../cli';
import { referenceCase } from '../stories';


describeWithShared('lab CLI', [STORIES.gguf, STORIES.bin, STORIES.tok, STORIES.reference, STORIES.tinystories], () => {
  it('inspect --json describes stories260K', async () => {
    const r = await lab('inspect', sharedPath(STORIES.gguf), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ format: 'gguf', parameters: 292_800, bytes: 1_171_200, tensors: 48, dtypes: { f32: 48 }, tokenizer: 'spm' });
    expect(out.config.numKvHeads).toBe(4);
  });

  it('generate --json reproduces the run.c greedy text (llama2.c .bin + tok512.bin)', async () => {
    const c = referenceCase('Once upon a time');
    const r = await lab('generate', sharedPath(STORIES.bin), '--prompt', 'Once upon a time', '-n', String(c.generated_tokens.length), '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toEqual(c.generated_tokens);
    expect(out.text).toBe(c.text);
    expect(out.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it('eval --ppl --json reports llama.cpp-style perplexity', async () => {
    const r = await lab('eval', sharedPath(STORIES.gguf), '--ppl', sharedPath(STORIES.tinystories), '--chunks', '2', '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ task: 'perplexity', chunks: 2, tokensScored: 510, contextLength: 512 });
    expect(out.ppl).toBeGreaterThan(2);
  });

  it('bad input: clear messages and non-zero exit codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    writeFileSync(join(dir, 'bad.gguf'), 'this is not a model');
    const bad = await lab('inspect', join(dir, 'bad.gguf'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.gguf: not a valid GGUF file/);
    const missing = await lab('inspect', join(dir, 'nope.gguf'));
    expect(missing.stderr).toMatch(/no such file/);
    const verb = await lab('frobnicate');
    expect(verb.code).toBe(2);
    expect(verb.stderr).toMatch(/unknown verb "frobnicate"/);
    const flag = await lab('generate', sharedPath(STORIES.gguf), '--temperature', 'hot', '--backend', 'cpu');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--temperature must be a number/);
  });
});

describeWithShared('lab quant and lab compress', [STORIES.gguf, STORIES.tinystories], () => {
  it('quant --budget fits the budget; compress --recipe q8_0 writes a GGUF that loads; int4 refuses .gguf clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    const q = await lab('quant', sharedPath(STORIES.gguf), '--method', 'rtn', '--budget', '300KB', '--json', '--data', sharedPath('data'));
    expect(q.code, q.stderr).toBe(0);
    const out = JSON.parse(q.stdout);
    expect(out.bytes).toBeLessThanOrEqual(300_000);
    expect(out.recipeHash).toMatch(/^[0-9a-f]{64}$/);

    const gguf = join(dir, 'q8.gguf');
    const c = await lab('compress', sharedPath(STORIES.gguf), '--recipe', 'q8_0', '--out', gguf, '--json', '--data', sharedPath('data'));
    expect(c.code, c.stderr).toBe(0);
    const info = JSON.parse((await lab('inspect', gguf, '--json')).stdout);
    expect(info.dtypes.q8_0).toBeGreaterThan(0);

    const bad = await lab('quant', sharedPath(STORIES.gguf), '--method', 'rtn', '--bits', '4', '--out', join(dir, 'x.gguf'), '--data', sharedPath('data'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/int4_g32.* no GGUF type; write a \.safetensors/);
    const size = await lab('quant', sharedPath(STORIES.gguf), '--budget', 'lots');
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/"lots" is not a byte size/);
  });
});
