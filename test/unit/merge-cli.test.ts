// `lab merge`: a mergekit YAML or a lab recipe in, a merged model out, through the real CLI process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fileSetFromPath } from '../../node/files';
import { sha256OfBytes } from '../../src/io/hash';
import { writeLabArtifact } from '../../src/io/lab-artifact';
import { loadModel } from '../../src/io/load';
import { f32Tensor, toFloat32 } from '../../src/model/tensor';
import { slerp } from '../../src/passes/merge/slerp';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { lab } from '../cli';
import { loadStoriesGguf } from '../stories';


describeWithShared('lab merge', [STORIES.gguf], () => {
  it('merges a mergekit YAML config beside its models, and a lab recipe with "self" and a sha256 pin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-merge-'));
    const base = await loadStoriesGguf();
    // a variant: every weight shifted by +0.01, so the linear merge 3:1 is base + 0.0025 exactly in f32 terms
    const shifted = new Map([...base.tensors].map(([n, t]) => [n, f32Tensor(n, t.shape, toFloat32(t).map((x) => x + 0.01))]));
    const variantBytes = writeLabArtifact({ ...base, tensors: shifted });
    writeFileSync(join(dir, 'variant.safetensors'), variantBytes);
    writeFileSync(join(dir, 'merge.yaml'), [
      'merge_method: linear',
      'models:',
      `  - model: ${sharedPath(STORIES.gguf)}`,
      '    parameters: {weight: 3}',
      '  - model: variant.safetensors',
      '    parameters: {weight: 1}',
      'dtype: float32',
    ].join('\n'));
    const r = await lab('merge', '--config', join(dir, 'merge.yaml'), '--out', join(dir, 'out.safetensors'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ method: 'linear', layers: 5, tensors: 48 });
    // two inputs, the merged tensor and its encoding, all of the largest tensor (embedding 512 x 64 f32)
    expect(o.peakTensorBytes).toBeLessThanOrEqual(4 * 512 * 64 * 4);
    const merged = await loadModel(fileSetFromPath(join(dir, 'out.safetensors')));
    const name = 'model.layers.3.mlp.up_proj.weight';
    const [b, m] = [toFloat32(base.tensors.get(name)!), toFloat32(merged.tensors.get(name)!)];
    b.forEach((x, i) => expect(m[i]).toBeCloseTo((3 * x + (x + 0.01)) / 4, 6));

    const recipe = (pin: string) => JSON.stringify({
      schema: 'lab.recipe/1', name: 'half',
      passes: [{ pass: 'merge', params: {
        method: 'slerp', baseModel: 'self', models: [{ model: 'self' }, { model: 'variant.safetensors' }],
        parameters: { t: 0.5 }, sha256: { 'variant.safetensors': pin },
      } }],
    });
    writeFileSync(join(dir, 'bad-pin.json'), recipe('0'.repeat(64)));
    const bad = await lab('merge', sharedPath(STORIES.gguf), '--config', join(dir, 'bad-pin.json'), '--out', join(dir, 'x.gguf'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/model variant\.safetensors: sha256 [0-9a-f]{64} does not match the pinned 0{64}/);
    const noSelf = await lab('merge', '--config', join(dir, 'bad-pin.json'), '--out', join(dir, 'x.gguf'));
    expect(noSelf.stderr).toMatch(/merges "self": give that model as the first argument/);

    writeFileSync(join(dir, 'pinned.json'), recipe(sha256OfBytes(variantBytes)));
    const good = await lab('merge', sharedPath(STORIES.gguf), '--config', join(dir, 'pinned.json'), '--out', join(dir, 'half.gguf'), '--json');
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout).models['variant.safetensors']).toBe(sha256OfBytes(variantBytes));
    const half = await loadModel(fileSetFromPath(join(dir, 'half.gguf')));
    const want = slerp(0.5, b, toFloat32(shifted.get(name)!));
    toFloat32(half.tensors.get(name)!).forEach((x, i) => expect(x).toBeCloseTo(want[i], 6));

    // the same recipe through `lab compress`: its merge step opens the variant beside the recipe file
    const viaCompress = await lab('compress', sharedPath(STORIES.gguf), '--recipe', join(dir, 'pinned.json'), '--out', join(dir, 'half2.gguf'));
    expect(viaCompress.code, viaCompress.stderr).toBe(0);
    const half2 = await loadModel(fileSetFromPath(join(dir, 'half2.gguf')));
    expect(toFloat32(half2.tensors.get(name)!)).toEqual(toFloat32(half.tensors.get(name)!));
  });
});
