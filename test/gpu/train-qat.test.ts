// Quantization-aware training on WebGPU (src/gpu/train/fake-quant.ts): the fake-quantization kernels equal
// the CPU's fakeQuantize (encode then decode) on random tensors and edge blocks, for every format they
// cover; then trainOnGpu on stories260K with q4_0 and q8_0 students follows the CPU Trainer (straight-
// through, same formats, sparsity kept) step for step, and exports the same tensors in the same formats;
// `lab distill --backend webgpu` takes a quantized student and follows `--backend cpu`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelFileSet } from '../../node/files';
import { loadModel } from '../../src/io/load';
import { storageBuffer, uploadBuffer } from '../../src/gpu/buffers';
import { FAKE_QUANT, FAKE_QUANT_KERNELS, gpuTrainingUnsupported } from '../../src/gpu/train/fake-quant';
import { trainOnGpu } from '../../src/gpu/train/run';
import { GpuTrainer } from '../../src/gpu/train/trainer';
import { DTYPES, encode, type DTypeId } from '../../src/model/dtype';
import { f16ToF32 } from '../../src/model/half';
import type { Model } from '../../src/model/model';
import { EMBED } from '../../src/model/names';
import { f32Tensor, makeTensor, toFloat32 } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { TrainConfig, Trainer, crossEntropyObjective, fakeQuantize, windowBatches } from '../../src/passes/distill/index';
import { studentTrainable } from '../../src/passes/distill/distill';
import { weightsOf } from '../../src/passes/distill/params';
import { fitDType, isLinearWeight } from '../../src/passes/quant/common';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';
import { lab } from '../cli';
import { device, mulberry32, read, runOnce, useGpu } from './setup';

useGpu(FAKE_QUANT_KERNELS);

const FORMATS = Object.keys(FAKE_QUANT) as DTypeId[];

/** Indices where a and b differ as numbers (-0 equals 0: the forward cannot tell them apart). */
function mismatches(a: Float32Array, b: Float32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/**
 * 64 blocks of 32: each of random values at its own scale (1e-4 .. 10), then edge blocks: all zeros, one
 * large value among small ones, a negative extreme, +x and -x tied for the largest magnitude, q8_0 halves
 * (amax 127: x * id lands on .5), and values on f16 rounding ties.
 */
function testValues(seed: number): Float32Array {
  const next = mulberry32(seed);
  const v = new Float32Array(64 * 32);
  for (let b = 0; b < 56; b++) {
    const scale = 10 ** (next() * 5 - 4);
    for (let j = 0; j < 32; j++) v[b * 32 + j] = (next() * 2 - 1) * scale;
  }
  const block = (b: number, f: (j: number) => number) => { for (let j = 0; j < 32; j++) v[b * 32 + j] = f(j); };
  block(56, () => 0);
  block(57, (j) => (j === 5 ? 300 : (next() - 0.5) * 1e-3));
  block(58, (j) => (j === 31 ? -7.25 : next() * 0.1));
  block(59, (j) => (j === 3 ? 2 : j === 9 ? -2 : (next() - 0.5)));
  block(60, (j) => (j === 0 ? 127 : j - 15.5));
  block(61, (j) => (j === 0 ? -8 : (j - 16) * 0.5));
  block(62, (j) => 1 + (2 * j + 1) * 2 ** -11); // halfway between f16 neighbours
  block(63, (j) => (j % 2 ? 1e-30 : -3e-3)); // tiny values next to normal ones
  return v;
}

describe('fake-quantization kernels', () => {
  for (const dtype of FORMATS) {
    it(`${dtype}: equals the CPU fakeQuantize (encode then decode) exactly, edge blocks included`, async () => {
      for (const seed of [1, 2]) {
        const values = testValues(seed);
        const want = fakeQuantize(values, dtype);
        const master = uploadBuffer(device, 'master', values), fw = storageBuffer(device, 'fw', values.length * 4);
        const block = DTYPES[dtype].blockSize;
        await runOnce(FAKE_QUANT[dtype]!, { master, fw }, { count: values.length / block, offset: 0 });
        const got = await read(fw, values.length);
        const bad = mismatches(got, want);
        expect(bad.slice(0, 5).map((i) => `#${i}: x ${values[i]} gpu ${got[i]} cpu ${want[i]}`), `${bad.length} mismatches`).toEqual([]);
        // an offset selects a part of a group: only blocks from it are written
        const part = storageBuffer(device, 'fw_part', values.length * 4);
        await runOnce(FAKE_QUANT[dtype]!, { master, fw: part }, { count: 2, offset: 64 });
        const p = await read(part, values.length);
        expect([...p.subarray(0, 64)].every((x) => x === 0)).toBe(true);
        expect(mismatches(p.subarray(64, 64 + 2 * block), want.subarray(64, 64 + 2 * block))).toEqual([]);
        expect([...p.subarray(64 + 2 * block)].every((x) => x === 0)).toBe(true);
        for (const b of [master, fw, part]) b.destroy();
      }
    });
  }
});

/**
 * stories260K with its layer matrices stored as `dtype` (f16 where the block does not divide a row, as the
 * quantizers do: down_proj's 172 inputs), `embed` for the embedding; `pruned` f32 matrices lose every other weight.
 */
function quantizedStudent(model: Model, dtype: DTypeId, embed: DTypeId, pruned: RegExp): Model {
  const tensors = new Map([...model.tensors].map(([n, t]) => {
    const w = toFloat32(t);
    if (pruned.test(n)) return [n, f32Tensor(n, t.shape, w.map((x, i) => (i % 2 ? 0 : x)))];
    const d = n === EMBED ? embed : isLinearWeight(n) ? fitDType(dtype, t.shape[1]) : 'f32';
    return [n, d === 'f32' ? t : makeTensor(n, t.shape, d, encode(d, w))];
  }));
  return { ...model, tensors, source: { ...model.source, name: `stories260K ${dtype}` } };
}

describeWithShared('QAT on WebGPU, stories260K', [STORIES.gguf, STORIES.tinystories], () => {
  let model: Model;
  let tokens: number[];

  beforeAll(async () => {
    model = await loadStoriesGguf();
    tokens = createTokenizer(model.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 20_000));
  });

  const students: [string, (m: Model) => Model][] = [
    ['q4_0 (embedding q8_0)', (m) => quantizedStudent(m, 'q4_0', 'q8_0', /^$/)],
    ['q8_0 with k_proj f32 and half pruned (a mixed q|k|v group)', (m) => quantizedStudent(m, 'q8_0', 'f32', /k_proj\.weight$/)],
  ];
  for (const [label, make] of students) {
    it(`${label}: 3 steps of trainOnGpu match the CPU Trainer's losses (1e-4 relative) and export the same tensors`, async () => {
      const student = make(model);
      const cfg = { steps: 3, batch: 2, seqLen: 32, lr: 1e-3, weightDecay: 0.01, seed: 3 };
      const gpu = await trainOnGpu(device, student, tokens, cfg);
      const config = TrainConfig.parse(cfg);
      const data = windowBatches(tokens, { ...config, bosId: student.config.bosTokenId });
      const cpu = new Trainer(student, studentTrainable(student, { keepSparsity: true, seed: cfg.seed }), crossEntropyObjective(student.config.vocabSize), data, config);
      await cpu.run();
      const cpuModel = cpu.toModel();
      const fmt = (h: { loss: number }[]) => h.map((s) => s.loss.toFixed(6)).join(' ');
      const rel = gpu.history.map((s, i) => Math.abs(s.loss - cpu.history[i].loss) / cpu.history[i].loss);
      // Masters differ by f32 noise of the two backends' sums, amplified by Adam (the f32 test allows a
      // quarter of lr after 3 steps); a master near a rounding boundary then lands one level over. So: f32
      // tensors within lr / 4, every stored weight within one level of its block (+ lr / 4), few levels moved.
      const lr4 = cfg.lr / 4;
      let worstF32 = 0, worstLevels = 0, moved = 0, quantized = 0, differingBlocks = 0;
      for (const [n, t] of cpuModel.tensors) {
        const g = gpu.model.tensors.get(n)!;
        expect(g.dtype, n).toBe(t.dtype);
        const a = toFloat32(t), b = toFloat32(g);
        if (t.dtype === 'f32') {
          for (let i = 0; i < a.length; i++) worstF32 = Math.max(worstF32, Math.abs(a[i] - b[i]));
          continue;
        }
        const { blockSize, blockBytes } = DTYPES[t.dtype];
        const cv = new DataView(t.data.buffer, t.data.byteOffset), gv = new DataView(g.data.buffer, g.data.byteOffset);
        for (let i = 0; i < a.length; i++) {
          const o = Math.floor(i / blockSize) * blockBytes;
          // one level: the block's f16 scale (block formats), one f16 ulp of the weight (f16)
          const level = blockSize > 1 ? Math.max(Math.abs(f16ToF32(cv.getUint16(o, true))), Math.abs(f16ToF32(gv.getUint16(o, true)))) : Math.abs(a[i]) * 2 ** -10 + 2 ** -24;
          worstLevels = Math.max(worstLevels, (Math.abs(a[i] - b[i]) - lr4) / level);
          moved += +(a[i] !== b[i]);
        }
        quantized += a.length;
        for (let o = 0; o < t.data.length; o += blockBytes) differingBlocks += +t.data.subarray(o, o + blockBytes).some((x, k) => x !== g.data[o + k]);
      }
      console.log(`QAT ${label}: GPU losses ${fmt(gpu.history)}; CPU ${fmt(cpu.history)}; rel. diff ${rel.map((r) => r.toExponential(1)).join(' ')}; ` +
        `exported: max |w_gpu - w_cpu| of f32 tensors ${worstF32.toExponential(2)}, ${moved} of ${quantized} stored weights differ ` +
        `(${differingBlocks} blocks), by at most ${worstLevels.toFixed(3)} level + lr/4`);
      expect(Math.max(...rel)).toBeLessThan(1e-4);
      expect(gpu.history[2].loss).not.toBe(gpu.history[0].loss);
      expect(worstF32).toBeLessThan(lr4);
      expect(worstLevels).toBeLessThanOrEqual(1);
      expect(moved / quantized).toBeLessThan(0.01);
      // sparsity of pruned f32 matrices kept; formats kept
      for (const [n, t] of student.tensors) {
        if (t.dtype === 'f32' && /k_proj/.test(n)) expect(toFloat32(gpu.model.tensors.get(n)!).every((x, i) => i % 2 === 0 || x === 0), n).toBe(true);
      }
    });
  }

  it('the trainer keeps the forward weights equal to fakeQuantize(masters) after updates and restores; gradients go to the masters', async () => {
    const student = quantizedStudent(model, 'q4_0', 'q8_0', /^$/);
    // what the Lab and the CLI ask before choosing WebGPU
    expect(gpuTrainingUnsupported(student)).toBeUndefined();
    expect(gpuTrainingUnsupported(quantizedStudent(model, 'int4_g32', 'f32', /^$/))).toMatch(/^model\.layers\.0\.self_attn\.q_proj\.weight is int4_g32: training through int4_g32 \(straight-through\) is CPU-only/);
    const fakeQuant = new Map([...student.tensors].filter(([, t]) => t.dtype !== 'f32').map(([n, t]) => [n, t.dtype]));
    const trainer = await GpuTrainer.create(device, student, { sequences: 1, seqLen: 16, fakeQuant });
    const ids = tokens.slice(0, 17);
    for (let i = 0; i < 2; i++) await trainer.step({ tokens: ids.slice(0, 16), targets: ids.slice(1) }, 1e-2);
    const masters = await trainer.weights(), forward = await trainer.forwardWeights(), start = weightsOf(student);
    for (const [n, dtype] of fakeQuant) {
      expect(mismatches(forward.get(n)!, fakeQuantize(masters.get(n)!, dtype)), n).toEqual([]);
      expect(mismatches(masters.get(n)!, start.get(n)!).length, `${n} masters moved`).toBeGreaterThan(0);
    }
    // a trainer restored from this state (a resumed checkpoint) starts from the same forward weights
    const resumed = await GpuTrainer.create(device, student, { sequences: 1, seqLen: 16, fakeQuant });
    await resumed.restore(await trainer.state());
    const again = await resumed.forwardWeights();
    for (const [n, w] of forward) expect(mismatches(again.get(n)!, w), n).toEqual([]);
    trainer.dispose();
    resumed.dispose();
  });

  it('lab distill --backend webgpu heals a q4_0-llamacpp student: the CPU backend\'s losses (1e-4 relative), the student\'s formats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-qat-'));
    try {
      const data = join(dir, 'text.txt');
      writeFileSync(data, readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 20_000));
      const runs = [];
      for (const backend of ['webgpu', 'cpu']) {
        const out = join(dir, `${backend}.safetensors`);
        const r = await lab('distill', '--teacher', sharedPath(STORIES.gguf), '--from-pruned', 'q4_0-llamacpp', '--data', data, '--steps', '2',
          '--seq-len', '32', '--batch', '1', '--top-k', '16', '--out', out, '--backend', backend, '--json');
        expect(r.code, r.stderr).toBe(0);
        runs.push({ result: JSON.parse(r.stdout), model: await loadModel(modelFileSet(out)) });
      }
      const [gpu, cpu] = runs;
      console.log(`lab distill q4_0-llamacpp, 2 steps: webgpu losses ${gpu.result.history.map((h: { loss: number }) => h.loss.toFixed(6)).join(' ')}; ` +
        `cpu ${cpu.result.history.map((h: { loss: number }) => h.loss.toFixed(6)).join(' ')}`);
      expect(gpu.result.backend).toBe('webgpu');
      gpu.result.history.forEach((h: { loss: number }, i: number) => expect(Math.abs(h.loss - cpu.result.history[i].loss) / cpu.result.history[i].loss).toBeLessThan(1e-4));
      const dtypes = (m: Model) => Object.fromEntries([...m.tensors].map(([n, t]) => [n, t.dtype]));
      expect(dtypes(gpu.model)).toEqual(dtypes(cpu.model));
      expect(gpu.model.tensors.get('model.layers.0.self_attn.q_proj.weight')!.dtype).toBe('q4_0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
