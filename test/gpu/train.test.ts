// The WebGPU trainer on stories260K: one step's gradients against the CPU backward of
// src/passes/distill/model-grad.ts (cross-entropy, and KL to teacher logits mixed with it), and a
// few steps of fine-tuning on TinyStories text lowering the loss. Shapes stay small (SwiftShader).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getNodeGpuDevice } from '../../node/gpu';
import { GpuContext } from '../../src/gpu/context';
import { trainOnGpu } from '../../src/gpu/train/run';
import { GpuTrainer, type TrainBatch } from '../../src/gpu/train/trainer';
import type { ModelConfig } from '../../src/model/config';
import { f32ToF16 } from '../../src/model/half';
import { expectedShapes, type Model } from '../../src/model/model';
import { byteSize } from '../../src/model/dtype';
import { f32Tensor, makeTensor, numel, type Tensor } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { TrainConfig, Trainer, crossEntropyObjective, fullTrainable, windowBatches } from '../../src/passes/distill/index';
import { distill } from '../../src/passes/distill/distill';
import { backwardModel, forwardModel } from '../../src/passes/distill/model-grad';
import { crossEntropyBackward, klBackward } from '../../src/passes/distill/ops';
import { weightsOf, withWeights } from '../../src/passes/distill/params';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

const SEQUENCES = 2, SEQ_LEN = 32;

/** Sequences of SEQ_LEN tokens from `tokens` at `start`, each row's target the token after it. */
function batchAt(tokens: number[], start: number): TrainBatch {
  const ids: number[] = [], targets: number[] = [];
  for (let s = 0; s < SEQUENCES; s++) {
    const o = start + s * SEQ_LEN;
    ids.push(...tokens.slice(o, o + SEQ_LEN));
    targets.push(...tokens.slice(o + 1, o + SEQ_LEN + 1));
  }
  return { tokens: ids, targets };
}

/** CPU gradients of the same loss: each sequence through forwardModel, losses over all rows, backwardModel. */
function cpuGradients(model: Model, b: TrainBatch, kd?: { weight: number; temperature: number }, shape = { sequences: SEQUENCES, seqLen: SEQ_LEN }) {
  const c = model.config, V = c.vocabSize;
  const { sequences: SEQUENCES, seqLen: SEQ_LEN } = shape;
  const w = weightsOf(model);
  const runs = Array.from({ length: SEQUENCES }, (_, s) => forwardModel(c, (n) => w.get(n), Array.from(b.tokens).slice(s * SEQ_LEN, (s + 1) * SEQ_LEN)));
  const logits = new Float32Array(SEQUENCES * SEQ_LEN * V);
  runs.forEach((r, s) => logits.set(r.logits, s * SEQ_LEN * V));
  const ce = crossEntropyBackward(logits, b.targets!, V);
  const dlogits = ce.dlogits;
  let kl = NaN;
  if (kd) {
    const k = klBackward(logits, b.teacherLogits!, V, kd.temperature);
    kl = k.loss;
    for (let i = 0; i < dlogits.length; i++) dlogits[i] += kd.weight * k.dlogits[i];
  }
  const grads = new Map([...w].map(([n, a]) => [n, new Float32Array(a.length)]));
  runs.forEach((r, s) => backwardModel(c, (n) => w.get(n), r.tape, dlogits.subarray(s * SEQ_LEN * V, (s + 1) * SEQ_LEN * V), (n) => grads.get(n)));
  return { grads, ce: ce.loss, kl };
}

/** Worst relative error over tensors: max |gpu - cpu| / max |cpu| per tensor. */
function worstRelative(gpu: Map<string, Float32Array>, cpu: Map<string, Float32Array>) {
  let worst = 0, at = '';
  for (const [name, want] of cpu) {
    const got = gpu.get(name);
    expect(got, name).toBeDefined();
    let diff = 0, mag = 0;
    for (let i = 0; i < want.length; i++) {
      diff = Math.max(diff, Math.abs(got![i] - want[i]));
      mag = Math.max(mag, Math.abs(want[i]));
    }
    expect(mag, `${name} has a non-zero gradient`).toBeGreaterThan(0);
    if (diff / mag > worst) [worst, at] = [diff / mag, name];
  }
  return { worst, at };
}

describeWithShared('GPU trainer on stories260K', [STORIES.gguf, STORIES.tinystories], () => {
  let model: Model;
  let tokens: number[];
  let device: GPUDevice;

  beforeAll(async () => {
    model = await loadStoriesGguf();
    tokens = createTokenizer(model.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 20_000));
    device = await getNodeGpuDevice();
  });

  // the adapter's own kernel family, and the other one forced (tiled, with barriers, on SwiftShader)
  for (const forced of [false, true]) {
  it(`cross-entropy gradients of every weight match the CPU backward (relative 1e-4)${forced ? ', other kernel family forced' : ''}`, async () => {
    const native = GpuContext.for(device).adapterClass;
    const kernels = forced ? (native === 'cpu' ? 'gpu' : 'cpu') : undefined;
    const trainer = await GpuTrainer.create(device, model, { sequences: SEQUENCES, seqLen: SEQ_LEN, kernels });
    const b = batchAt(tokens, 0);
    b.targets = Array.from(b.targets!, (t, i) => (i % 7 === 3 ? -1 : t)); // some rows without a target
    const loss = await trainer.backward(b);
    const want = cpuGradients(model, b);
    const { worst, at } = worstRelative(await trainer.gradients(), want.grads);
    console.log(`stories260K (${trainer.kernels} kernels) CE ${loss.ce.toFixed(5)} (CPU ${want.ce.toFixed(5)}); worst gradient rel. error ${worst.toExponential(2)} (${at})`);
    expect(Math.abs(loss.ce - want.ce)).toBeLessThan(1e-4);
    expect(worst).toBeLessThanOrEqual(1e-4);
    trainer.dispose();
  });
  }

  it('KL to teacher logits (T = 2) plus cross-entropy: gradients match the CPU backward', async () => {
    const temperature = 2, klWeight = 0.5;
    const trainer = await GpuTrainer.create(device, model, { sequences: SEQUENCES, seqLen: SEQ_LEN, temperature, klWeight });
    const b = batchAt(tokens, 300);
    // a teacher that disagrees: the student's own logits would give KL 0 and no gradient
    let seed = 1;
    b.teacherLogits = Float32Array.from({ length: SEQUENCES * SEQ_LEN * model.config.vocabSize }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 8 - 4);
    const loss = await trainer.backward(b);
    const want = cpuGradients(model, b, { weight: klWeight, temperature });
    const { worst, at } = worstRelative(await trainer.gradients(), want.grads);
    console.log(`stories260K KD: KL ${loss.kl.toFixed(5)} (CPU ${want.kl.toFixed(5)}); worst gradient rel. error ${worst.toExponential(2)} (${at})`);
    expect(Math.abs(loss.kl - want.kl) / want.kl).toBeLessThan(1e-4);
    expect(loss.loss).toBeCloseTo(loss.ce + klWeight * loss.kl, 6);
    expect(worst).toBeLessThanOrEqual(1e-4);
    trainer.dispose();
  });

  let trainer: GpuTrainer | undefined;
  afterAll(() => trainer?.dispose());

  it('12 AdamW steps on TinyStories text lower the loss on those batches; clipped, and the weights come back as a model', async () => {
    trainer = await GpuTrainer.create(device, model, { sequences: SEQUENCES, seqLen: SEQ_LEN, adamw: { maxGradNorm: 1, weightDecay: 0.01 } });
    const batches = [0, 1, 2, 3].map((i) => batchAt(tokens, 1000 + i * SEQUENCES * SEQ_LEN));
    const evalLoss = async () => {
      let s = 0;
      for (const b of batches) s += (await trainer!.backward(b)).ce;
      return s / batches.length;
    };
    const before = await evalLoss();
    const log: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await trainer.step(batches[i % batches.length], 2e-3);
      expect(Number.isFinite(r.gradNorm) && r.gradNorm > 0).toBe(true);
      log.push(r.ce);
    }
    const after = await evalLoss();
    console.log(`GPU fine-tune stories260K, 12 steps of ${SEQUENCES}x${SEQ_LEN} tokens at lr 2e-3: CE ${before.toFixed(4)} -> ${after.toFixed(4)}; per step ${log.map((v) => v.toFixed(3)).join(' ')}`);
    expect(trainer.steps).toBe(12);
    expect(after).toBeLessThan(before - 0.1);
    const tuned = await trainer.toModel();
    expect(tuned.tensors.get('model.layers.0.mlp.down_proj.weight')!.dtype).toBe('f32');
    expect(tuned.tensors.get('model.norm.weight')!.data).not.toEqual(model.tensors.get('model.norm.weight')!.data);
  });

  it('gradient accumulation over two micro-batches equals one step over their rows', async () => {
    const t1 = await GpuTrainer.create(device, model, { sequences: SEQUENCES, seqLen: SEQ_LEN });
    const t2 = await GpuTrainer.create(device, model, { sequences: 2 * SEQUENCES, seqLen: SEQ_LEN });
    const a = batchAt(tokens, 4000), b = batchAt(tokens, 4000 + SEQUENCES * SEQ_LEN);
    const l1 = await t1.backward([a, b]);
    const l2 = await t2.backward({ tokens: [...Array.from(a.tokens), ...Array.from(b.tokens)], targets: [...Array.from(a.targets!), ...Array.from(b.targets!)] });
    expect(l1.ce).toBeCloseTo(l2.ce, 5);
    const { worst } = worstRelative(await t1.gradients(), await t2.gradients());
    expect(worst).toBeLessThanOrEqual(1e-5);
    t1.dispose();
    t2.dispose();
  });

  it('keepSparsity: pruned weights stay exactly zero through AdamW steps (with weight decay), the rest trains', async () => {
    const name = 'model.layers.2.self_attn.q_proj.weight';
    const w = weightsOf(model);
    const pruned = w.get(name)!.map((v, i) => (i % 2 ? 0 : v));
    w.set(name, pruned);
    const sparse = withWeights(model, w);
    const t = await GpuTrainer.create(device, sparse, { sequences: SEQUENCES, seqLen: SEQ_LEN, keepSparsity: true, adamw: { weightDecay: 0.1 } });
    for (let i = 0; i < 3; i++) await t.step(batchAt(tokens, 6000 + i * 100), 1e-2);
    const after = (await t.weights()).get(name)!;
    expect(after.filter((_, i) => i % 2 === 1).every((v) => v === 0)).toBe(true);
    expect(after.filter((v, i) => i % 2 === 0 && v !== pruned[i]).length).toBeGreaterThan(pruned.length / 4);
    t.dispose();
  });

  it('trainOnGpu follows the CPU Trainer under one TrainConfig: same windows, losses and (nearly) the same weights', async () => {
    const cfg = { steps: 3, batch: 2, seqLen: 32, lr: 1e-3, weightDecay: 0.01, seed: 3 };
    const gpu = await trainOnGpu(device, model, tokens, cfg);
    const config = TrainConfig.parse(cfg);
    const data = windowBatches(tokens, { ...config, bosId: model.config.bosTokenId });
    const cpu = new Trainer(model, fullTrainable(weightsOf(model)), crossEntropyObjective(model.config.vocabSize), data, config);
    await cpu.run();
    const fmt = (h: { loss: number }[]) => h.map((s) => s.loss.toFixed(5)).join(' ');
    console.log(`3 steps, GPU losses ${fmt(gpu.history)}; CPU ${fmt(cpu.history)}`);
    gpu.history.forEach((s, i) => {
      expect(s.loss).toBeCloseTo(cpu.history[i].loss, 3);
      expect(s.lr).toBe(cpu.history[i].lr);
      expect(s.gradNorm / cpu.history[i].gradNorm).toBeCloseTo(1, 3);
    });
    // Adam's normalised steps amplify f32 rounding in near-zero gradients; a weight moves by about lr per step
    let worst = 0;
    const want = weightsOf(cpu.toModel()), got = weightsOf(gpu.model);
    for (const [n, a] of want) for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - got.get(n)![i]));
    console.log(`max |w_gpu - w_cpu| after 3 steps at lr 1e-3: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(0.25 * cfg.lr);
  });

  it('distillation with top-k teacher logits (k 16, T 2, plus CE) on a pruned student follows the CPU distill trainer', async () => {
    // every other weight of each layer matrix pruned (what a real pruner's output looks like to training)
    const sparse = weightsOf(model);
    for (const [n, w] of sparse) if (/layers\.\d+\..*proj\.weight$/.test(n)) w.forEach((_, i) => { if (i % 2) w[i] = 0; });
    const student = withWeights(model, sparse);
    const loss = { kl: 1, ce: 0.5, temperature: 2, topK: 16 };
    const cfg = { steps: 2, batch: 2, seqLen: 32, lr: 1e-3, seed: 5 };
    const gpu = await trainOnGpu(device, student, tokens, { ...cfg, teacher: model, loss });
    const data = windowBatches(tokens, { ...TrainConfig.parse(cfg), bosId: model.config.bosTokenId });
    const cpu = await distill(model, student, data, { ...cfg, loss });
    const fmt = (h: { loss: number }[]) => h.map((s) => s.loss.toFixed(5)).join(' ');
    console.log(`distill 2 steps (top-16, T 2): GPU losses ${fmt(gpu.history)}; CPU ${fmt(cpu.history)}`);
    gpu.history.forEach((s, i) => {
      expect(s.loss).toBeCloseTo(cpu.history[i].loss, 3);
      expect(s.parts.kl).toBeCloseTo(cpu.history[i].parts.kl, 3);
    });
    let worst = 0;
    const want = weightsOf(cpu.model), got = weightsOf(gpu.model), pruned = weightsOf(student);
    for (const [n, a] of want) {
      const g = got.get(n)!, p = pruned.get(n)!;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - g[i]));
        if (p[i] === 0 && /layers/.test(n) && n.endsWith('proj.weight')) expect(g[i]).toBe(0); // sparsity kept by default
      }
    }
    expect(worst).toBeLessThan(0.25 * cfg.lr);
  });

  it('checkpoints: a run resumed from its step-2 checkpoint equals the uninterrupted one bit for bit, and the CPU Trainer resumes it too', async () => {
    const cfg = { steps: 3, batch: 2, seqLen: 32, lr: 1e-3, seed: 9 };
    const saved = new Map<number, Uint8Array>();
    const full = await trainOnGpu(device, model, tokens, { ...cfg, checkpointEvery: 2, onCheckpoint: (b, step) => void saved.set(step, b) });
    expect([...saved.keys()]).toEqual([2, 3]);
    const resumed = await trainOnGpu(device, model, tokens, { ...cfg, resume: saved.get(2) });
    expect(resumed.history).toEqual(full.history);
    const [a, b] = [weightsOf(full.model), weightsOf(resumed.model)];
    for (const [n, w] of a) expect(b.get(n), n).toEqual(w);

    const config = TrainConfig.parse(cfg);
    const cpu = new Trainer(model, fullTrainable(weightsOf(model)), crossEntropyObjective(model.config.vocabSize),
      windowBatches(tokens, { ...config, bosId: model.config.bosTokenId }), config);
    await cpu.restore(saved.get(2)!);
    expect(cpu.step).toBe(2);
    await cpu.run();
    expect(cpu.history[2].loss).toBeCloseTo(full.history[2].loss, 4);
    await expect(trainOnGpu(device, model, tokens, { ...cfg, lr: 5e-3, resume: saved.get(2) })).rejects.toThrow(/checkpoint was written with lr=0.001, this run has lr=0.005/);
    // a format without a GPU fake-quantization kernel (train-qat.test.ts covers those with one) is refused by name
    const q41 = { ...model, tensors: new Map([...model.tensors].map(([n, t]) => [n, n.endsWith('down_proj.weight') ? makeTensor(n, t.shape, 'q4_1', new Uint8Array(byteSize('q4_1', numel(t.shape)))) : t])) };
    await expect(trainOnGpu(device, q41, tokens, cfg)).rejects.toThrow(/model.layers.0.mlp.down_proj.weight is stored as q4_1; .* CPU-only/);
  });

  it('stops at an aborted signal', async () => {
    const ac = new AbortController();
    const steps: number[] = [];
    const run = trainOnGpu(device, model, tokens, { steps: 5, batch: 1, seqLen: 16, signal: ac.signal, onProgress: (s) => { steps.push(s.step); if (s.step === 2) ac.abort(); } });
    await expect(run).rejects.toThrow(/abort/i);
    expect(steps).toEqual([1, 2]);
  });

  it('a synthetic Qwen2-like model with what stories260K lacks: q/k/v biases, untied lm_head, half RoPE, 4:1 GQA, q width != hidden, f16 weights', async () => {
    const config: ModelConfig = {
      architecture: 'qwen2', hiddenSize: 32, intermediateSize: 40, numLayers: 2, numHeads: 4, numKvHeads: 1, headDim: 16,
      vocabSize: 50, maxPositions: 64, rmsNormEps: 1e-6, ropeTheta: 1e6, ropeStyle: 'half', attentionBias: true,
      tieWordEmbeddings: false, bosTokenId: null, eosTokenId: null,
    };
    let a = 7;
    const rand = () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
    const tensors = new Map<string, Tensor>();
    for (const [name, shape] of expectedShapes(config)) {
      const values = Float32Array.from({ length: numel(shape) }, () => (name.includes('norm') ? 1 + rand() * 0.2 : rand()));
      tensors.set(name, name.includes('mlp')
        ? makeTensor(name, shape, 'f16', new Uint8Array(Uint16Array.from(values, f32ToF16).buffer))
        : f32Tensor(name, shape, values));
    }
    const synthetic: Model = { config, tensors, source: { format: 'synthetic', name: 'seed 7' } };
    const shape = { sequences: 3, seqLen: 11 };
    const n = shape.sequences * shape.seqLen;
    const b: TrainBatch = { tokens: Array.from({ length: n }, (_, i) => (i * 7 + 3) % 50), targets: Array.from({ length: n }, (_, i) => (i * 11 + 5) % 50) };
    const t = await GpuTrainer.create(device, synthetic, shape);
    const loss = await t.backward(b);
    const want = cpuGradients(synthetic, b, undefined, shape);
    const { worst, at } = worstRelative(await t.gradients(), want.grads);
    console.log(`synthetic model: CE ${loss.ce.toFixed(5)} (CPU ${want.ce.toFixed(5)}); worst gradient rel. error ${worst.toExponential(2)} (${at})`);
    const got = await t.gradients();
    expect(got.has('lm_head.weight') && got.has('model.layers.1.self_attn.k_proj.bias')).toBe(true);
    expect(worst).toBeLessThanOrEqual(1e-4);
    t.dispose();
  });

  it('rejects bad batches with errors naming the problem', async () => {
    const t = await GpuTrainer.create(device, model, { sequences: 1, seqLen: 4 });
    await expect(t.backward({ tokens: [1, 2, 3], targets: [1, 2, 3] })).rejects.toThrow(/3 tokens, the trainer takes 1 x 4/);
    await expect(t.backward({ tokens: [1, 2, 3, 999], targets: [1, 2, 3, 4] })).rejects.toThrow(/token id 999 outside vocabulary/);
    await expect(t.backward({ tokens: [1, 2, 3, 4] })).rejects.toThrow(/neither targets nor teacher logits/);
    await expect(t.backward({ tokens: [1, 2, 3, 4], teacherLogits: new Float32Array(5) })).rejects.toThrow(/5 teacher logits/);
    await expect(t.backward({ tokens: [1, 2, 3, 4], teacherTopK: { k: 2, indices: new Int32Array(8), logits: new Float32Array(8) } })).rejects.toThrow(/k = 2, the trainer was made for teacherTopK = 0/);
    await expect(GpuTrainer.create(device, model, { sequences: 1, seqLen: 100_000 })).rejects.toThrow(/seqLen 100000/);
    t.dispose();
  });
});
