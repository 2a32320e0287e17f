// `lab distill` end to end: a 3-layer student cut from stories260K, distilled for a few updates with a
// checkpoint, resumed to more updates from that checkpoint, written as a lab artifact that loads back; the
// same on --backend webgpu (Dawn; SwiftShader without a GPU), whose first updates match the CPU's losses.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { UsageError } from '../../cli/command';
import { distillCommand } from '../../cli/commands/distill';
import { modelFileSet } from '../../node/files';
import { loadModel } from '../../src/io/load';
import { describeWithShared, REPO, sharedPath, STORIES } from '../fixtures';

const run = promisify(execFile);
async function lab(...args: string[]) {
  try {
    const { stdout, stderr } = await run('node', [join(REPO, 'cli/lab.mjs'), 'distill', ...args], { cwd: REPO, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describeWithShared('lab distill', [STORIES.gguf, STORIES.tinystories], () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-distill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const teacher = sharedPath(STORIES.gguf), data = join(dir, 'text.txt');
  writeFileSync(data, readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 30_000));

  it('distils a 3-layer student with progress lines and a checkpoint, resumes it, and writes a loadable artifact', async () => {
    const cfg = join(dir, 'student.json'), ckpt = join(dir, 'ckpt.safetensors'), out = join(dir, 'student.safetensors');
    writeFileSync(cfg, JSON.stringify({ numLayers: 3 }));
    const common = ['--teacher', teacher, '--student-config', cfg, '--data', data, '--seq-len', '32', '--batch', '1', '--lr', '2e-3',
      '--top-k', '16', '--checkpoint', ckpt, '--checkpoint-every', '2', '--log-every', '1', '--out', out];
    const first = await lab(...common, '--steps', '2');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/student 3 layers, 8 heads \(4 kv\), hidden 64, ffn 172; 201,920 params/);
    expect(first.stderr).toMatch(/step 1\/2 loss \d+\.\d{4} \(kl \d+\.\d{4}\) lr /);
    expect(existsSync(ckpt)).toBe(true);
    // the same command with more steps and --resume continues at step 3
    const second = await lab(...common, '--steps', '4', '--resume', '--json');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resumed from .*ckpt\.safetensors at step 2/);
    const result = JSON.parse(second.stdout);
    expect(result.steps).toBe(4);
    expect(result.history.map((h: { step: number }) => h.step)).toEqual([1, 2, 3, 4]);
    expect(result.student.params).toBe(201_920);
    const model = await loadModel(modelFileSet(out));
    expect(model.config.numLayers).toBe(3);
    expect(model.tensors.size).toBe(3 + 3 * 9);
  });

  it('--backend webgpu: same progress lines, loss falls, the CPU losses match, resumes its checkpoint, output loads', async () => {
    const cfg = join(dir, 'student-gpu.json'), ckpt = join(dir, 'gpu-ckpt.safetensors'), out = join(dir, 'gpu.safetensors');
    writeFileSync(cfg, JSON.stringify({ numLayers: 3 }));
    const common = ['--teacher', teacher, '--student-config', cfg, '--data', data, '--seq-len', '32', '--batch', '1', '--lr', '2e-3',
      '--top-k', '16', '--checkpoint', ckpt, '--checkpoint-every', '2', '--log-every', '1', '--out', out, '--json'];
    const gpu = await lab(...common, '--steps', '4', '--backend', 'webgpu');
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stderr).toMatch(/step 1\/4 loss \d+\.\d{4} \(kl \d+\.\d{4}\) lr .* tok\/s/); // KL only: no ce term on either backend
    const g = JSON.parse(gpu.stdout);
    expect(g.backend).toBe('webgpu');
    expect(g.steps).toBe(4);
    expect(g.lastLoss).toBeLessThan(g.firstLoss - 0.1);
    // the CPU trainer on the same config and windows: the same first losses (f32 on both, different summation order)
    const cpu = JSON.parse((await lab(...common.filter((a) => a !== ckpt && a !== '--checkpoint'), '--steps', '4')).stdout);
    for (let i = 0; i < 2; i++) expect(g.history[i].loss).toBeCloseTo(cpu.history[i].loss, 3);
    // extend the webgpu run from its checkpoint (written at step 4) to step 5
    const more = await lab(...common, '--steps', '5', '--backend', 'webgpu', '--resume');
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toMatch(/resumed from .*gpu-ckpt\.safetensors at step 4/);
    expect(JSON.parse(more.stdout).history.map((h: { step: number }) => h.step)).toEqual([1, 2, 3, 4, 5]);
    const model = await loadModel(modelFileSet(out));
    expect(model.config.numLayers).toBe(3);
    expect(model.tensors.size).toBe(3 + 3 * 9);
  });

  it('--backend webgpu refuses what is CPU-only, naming it', async () => {
    const signal = new AbortController().signal;
    const out = join(dir, 'y.safetensors'), cfg = join(dir, 'two.json');
    writeFileSync(cfg, JSON.stringify({ numLayers: 2 }));
    const base = ['--teacher', teacher, '--data', data, '--steps', '1', '--out', out, '--backend', 'webgpu'];
    await expect(distillCommand.run([...base.slice(0, -1), 'cuda'], signal)).rejects.toThrow(/--backend must be cpu or webgpu, got "cuda"/);
    await expect(distillCommand.run([...base, '--student-config', cfg, '--lora-rank', '4'], signal)).rejects.toThrow(/LoRA training is CPU-only/);
    await expect(distillCommand.run([...base, '--student-config', cfg, '--hidden-mse', '0.5'], signal)).rejects.toThrow(/hidden-state MSE loss is CPU-only/);
    // q8_0 / q4_0 students train on WebGPU (test/gpu/train-qat.test.ts); the int family is CPU-only
    await expect(distillCommand.run([...base, '--from-pruned', 'hqq-int4'], signal)).rejects.toThrow(/is int4_g\d+: training through int4_g\d+ \(straight-through\) is CPU-only/);
  });

  it('bad input names the problem (in process: usage errors come before any model is read)', async () => {
    const signal = new AbortController().signal;
    const out = join(dir, 'x.safetensors');
    await expect(distillCommand.run(['--teacher', teacher, '--data', data, '--steps', '2', '--out', out], signal))
      .rejects.toThrow(/give exactly one of --student-config, --from-pruned, --student/);
    await expect(distillCommand.run(['--teacher', teacher, '--student', teacher, '--data', data, '--steps', '2', '--out', join(dir, 'x.bin')], signal))
      .rejects.toThrow(UsageError);
    const cfg = join(dir, 'wide.json');
    writeFileSync(cfg, JSON.stringify({ numLayers: 9 }));
    await expect(distillCommand.run(['--teacher', teacher, '--student-config', cfg, '--data', data, '--steps', '2', '--out', out], signal))
      .rejects.toThrow(/larger than the teacher \(5 layers/);
    writeFileSync(cfg, JSON.stringify({ numLayer: 3 }));
    await expect(distillCommand.run(['--teacher', teacher, '--student-config', cfg, '--data', data, '--steps', '2', '--out', out], signal))
      .rejects.toThrow(/--student-config: \(root\): Unrecognized key: "numLayer"/);
  });
});
