// The CPU trainer on stories260K: the taped forward equals the reference forward, whole-model gradients
// match finite differences, the optimizer pieces do what they say, and a run resumed from a checkpoint
// on disk ends with exactly the weights of an uninterrupted run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Model } from '../../src/model/model';
import { toFloat32 } from '../../src/model/tensor';
import { createTokenizer } from '../../src/model/tokenizer/index';
import {
  backwardModel, crossEntropyObjective, distillObjective, fineTune, forwardModel, fullTrainable, loraTrainable,
  studentFromScratch, studentFromTeacher, Trainer, TrainConfig, weightsOf, windowBatches,
} from '../../src/passes/distill/index';
import { crossEntropyBackward } from '../../src/passes/distill/ops/index';
import { adamwState, adamwStep, clipGlobalNorm } from '../../src/passes/distill/optimizer';
import { learningRate } from '../../src/passes/distill/schedule';
import { passes } from '../../src/passes/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';
import { gradError, gradientSink } from './gradcheck';

describeWithShared('CPU trainer on stories260K', [STORIES.gguf, STORIES.tinystories], () => {
  let model: Model, tokens: number[];
  const dir = mkdtempSync(join(tmpdir(), 'distill-'));

  beforeAll(async () => {
    model = await loadStoriesGguf();
    tokens = createTokenizer(model.tokenizer!).encode(readFileSync(sharedPath(STORIES.tinystories), 'utf8').slice(0, 20000));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the taped forward gives the reference forward\'s logits exactly', () => {
    const W = weightsOf(model);
    const input = tokens.slice(0, 40);
    const { logits } = forwardModel(model.config, (n) => W.get(n), input);
    expect(logits).toEqual(new CpuRuntime(model).forwardSync(input));
  });

  it('whole-model gradients match central finite differences (relative error <= 1e-3) for weights of every kind', () => {
    const W = weightsOf(model);
    const window = tokens.slice(100, 121);
    const weight = (n: string) => W.get(n);
    const loss = () => crossEntropyBackward(forwardModel(model.config, weight, window.slice(0, -1)).logits, window.slice(1), 512).loss;
    const { logits, tape } = forwardModel(model.config, weight, window.slice(0, -1));
    const { grads: G, grad } = gradientSink(W);
    backwardModel(model.config, weight, tape, crossEntropyBackward(logits, window.slice(1), 512).dlogits, grad);
    expect([...G.keys()].sort()).toEqual([...model.tensors.keys()].sort());
    const names = ['model.embed_tokens.weight', 'lm_head.weight', 'model.norm.weight', 'model.layers.0.self_attn.q_proj.weight',
      'model.layers.2.self_attn.k_proj.weight', 'model.layers.4.self_attn.v_proj.weight', 'model.layers.1.self_attn.o_proj.weight',
      'model.layers.3.mlp.gate_proj.weight', 'model.layers.2.mlp.up_proj.weight', 'model.layers.0.mlp.down_proj.weight',
      'model.layers.1.input_layernorm.weight', 'model.layers.4.post_attention_layernorm.weight'];
    for (const name of names) {
      const w = W.get(name)!, g = G.get(name)!;
      // the 2 largest gradients of the tensor (small ones drown in f32 noise) plus 2 fixed others
      const order = [...g.keys()].sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      const idx = [order[0], order[1], order[Math.floor(order.length / 7)], order[Math.floor(order.length / 3)]];
      const rel = gradError(w, g, idx, loss);
      console.log(`${name}: relative error ${rel.toExponential(1)}`);
      expect(rel).toBeLessThanOrEqual(1e-3);
    }
  });

  it('AdamW: bias-corrected first step moves each weight by lr·sign(g); decay shrinks matrices only; clipping and schedules', () => {
    const p = new Map([['w', Float32Array.of(1, -2)], ['norm', Float32Array.of(3)]]);
    const g = new Map([['w', Float32Array.of(0.5, -4)], ['norm', Float32Array.of(0)]]);
    const st = adamwState(p);
    adamwStep(p, g, st, 0.1, { beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0.5 }, (n) => n === 'w');
    expect(p.get('w')![0]).toBeCloseTo(1 - 0.1 * (1 + 0.5 * 1), 6);
    expect(p.get('w')![1]).toBeCloseTo(-2 - 0.1 * (-1 + 0.5 * -2), 6);
    expect(Number.isNaN(p.get('norm')![0])).toBe(true); // 0/0 with eps 0: eps is what keeps silent weights still
    const grads = new Map([['a', Float32Array.of(3, 4)]]);
    expect(clipGlobalNorm(grads, 1)).toBe(5);
    expect([...grads.get('a')!]).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const o = { lr: 1, steps: 11, warmup: 2, minLr: 0.1 };
    expect([0, 1, 2].map((s) => learningRate(s, { ...o, schedule: 'cosine' }))).toEqual([0.5, 1, 1]);
    expect(learningRate(10, { ...o, schedule: 'cosine' })).toBeCloseTo(0.1, 12);
    expect(learningRate(6, { ...o, schedule: 'linear' })).toBeCloseTo(0.1 + 0.9 * (1 - 4 / 8), 12);
    expect(learningRate(6, { ...o, schedule: 'cosine' })).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 2)), 12);
    expect(learningRate(9, { ...o, schedule: 'constant' })).toBe(1);
  });

  it('resuming from a checkpoint on disk gives exactly the weights of an uninterrupted run (with accumulation)', async () => {
    const config = TrainConfig.parse({ steps: 4, lr: 2e-3, warmup: 1, batch: 1, accumulate: 2, seqLen: 16, seed: 3, weightDecay: 0.01 });
    const make = () => new Trainer(model, fullTrainable(weightsOf(model)), crossEntropyObjective(512),
      windowBatches(tokens, { ...config, bosId: 1 }), config);
    const straight = make();
    await straight.run();
    const first = make();
    const file = join(dir, 'ckpt.safetensors');
    await first.run({ checkpointEvery: 2, onCheckpoint: (bytes, step) => { if (step === 2) writeFileSync(file, bytes); } });
    const resumed = make();
    await resumed.restore(new Uint8Array(readFileSync(file)));
    expect(resumed.step).toBe(2);
    await resumed.run();
    const a = straight.toModel(), b = resumed.toModel();
    for (const [n, t] of a.tensors) expect(toFloat32(b.tensors.get(n)!), n).toEqual(toFloat32(t));
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    // a checkpoint refuses a run set up differently
    const other = new Trainer(model, fullTrainable(weightsOf(model)), crossEntropyObjective(512),
      windowBatches(tokens, { ...config, bosId: 1 }), { ...config, lr: 1e-3 });
    await expect(other.restore(new Uint8Array(readFileSync(file)))).rejects.toThrow(/written with lr=0.002, this run has lr=0.001/);
  });

  it('fineTune is deterministic for a seed and honours its AbortSignal', async () => {
    const opts = { steps: 2, seqLen: 16, batch: 1, lr: 1e-3, seed: 7 };
    const [a, b] = [await fineTune(model, tokens, opts), await fineTune(model, tokens, opts)];
    const c = await fineTune(model, tokens, { ...opts, seed: 8 });
    const q = 'model.layers.0.self_attn.q_proj.weight';
    expect(toFloat32(a.tensors.get(q)!)).toEqual(toFloat32(b.tensors.get(q)!));
    expect(toFloat32(a.tensors.get(q)!)).not.toEqual(toFloat32(c.tensors.get(q)!));
    expect(toFloat32(a.tensors.get(q)!)).not.toEqual(toFloat32(model.tensors.get(q)!));
    const ac = new AbortController();
    await expect(fineTune(model, tokens, { ...opts, steps: 50, signal: ac.signal, onProgress: (s) => { if (s.step === 1) ac.abort(new Error('stop')); } }))
      .rejects.toThrow('stop');
    expect(() => windowBatches([1, 2, 3], { seqLen: 8, batch: 1, seed: 0, bosId: 1 })).toThrow(/3 tokens, fewer than one window of 9/);
    // a quantized model stays quantized (straight-through training of its f32 masters)
    const q8 = await passes.rtn.apply(model, passes.rtn.params.parse({ dtype: 'int8_g32' }), {});
    const tuned = await fineTune(q8, tokens, { ...opts, steps: 1 });
    for (const [n, t] of q8.tensors) expect(tuned.tensors.get(n)!.dtype, n).toBe(t.dtype);
    expect(tuned.tensors.get(q)!.data).not.toEqual(q8.tensors.get(q)!.data);
  });

  it('LoRA trains only the adapters, starts from the model itself, and merges back into plain weights', async () => {
    const config = TrainConfig.parse({ steps: 3, lr: 1e-2, batch: 1, seqLen: 16, seed: 1 });
    const W = weightsOf(model);
    const lora = loraTrainable(model, W, { rank: 2, alpha: 4, targets: ['self_attn.q_proj.weight', 'self_attn.v_proj.weight'], seed: 1 });
    expect(lora.params.size).toBe(2 * 2 * model.config.numLayers);
    const q0 = 'model.layers.0.self_attn.q_proj.weight', o0 = 'model.layers.0.self_attn.o_proj.weight';
    expect(lora.weight(q0)).toEqual(W.get(q0)); // B = 0
    const t = new Trainer(model, lora, crossEntropyObjective(512), windowBatches(tokens, { ...config, bosId: 1 }), config);
    await t.run();
    const out = t.toModel();
    expect(out.tensors.get(q0)!.dtype).toBe('f32');
    expect(toFloat32(out.tensors.get(q0)!)).not.toEqual(toFloat32(model.tensors.get(q0)!));
    expect(toFloat32(out.tensors.get(o0)!)).toEqual(toFloat32(model.tensors.get(o0)!));
    expect(W.get(q0)).toEqual(toFloat32(model.tensors.get(q0)!)); // the base weights stay frozen
    expect(() => loraTrainable(model, W, { rank: 2, alpha: 4, targets: ['nope'], seed: 1 })).toThrow(/no linear weight matches targets nope/);
  });

  it('a layer-dropped student, and the distillation objective (KL T=2 on top-k teacher logits + CE + hidden MSE) through it', () => {
    const student = studentFromTeacher(model, { numLayers: 3 });
    expect(student.config.numLayers).toBe(3);
    // layers 0, 2, 4 of the teacher, renumbered
    expect(student.tensors.get('model.layers.1.mlp.up_proj.weight')!.data).toEqual(model.tensors.get('model.layers.2.mlp.up_proj.weight')!.data);
    const W = weightsOf(student);
    const weight = (n: string) => W.get(n);
    const objective = distillObjective(model, student, { temperature: 2, kl: 1, ce: 0.5, hiddenMse: 3, topK: 20 });
    const window = tokens.slice(300, 317);
    const loss = () => {
      const { logits, tape } = forwardModel(student.config, weight, window.slice(0, -1));
      return objective(window, { logits, hidden: tape.hidden }).loss;
    };
    const { logits, tape } = forwardModel(student.config, weight, window.slice(0, -1));
    const r = objective(window, { logits, hidden: tape.hidden });
    expect(Object.keys(r.parts).sort()).toEqual(['ce', 'kl', 'mse']);
    expect(r.loss).toBeCloseTo(r.parts.kl + 0.5 * r.parts.ce + 3 * r.parts.mse, 10);
    const { grads: G, grad } = gradientSink(W);
    backwardModel(student.config, weight, tape, r.dlogits, grad, r.dhidden);
    for (const name of ['model.norm.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.2.mlp.down_proj.weight']) {
      const w = W.get(name)!, g = G.get(name)!;
      const largest = [...g.keys()].sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, 3);
      expect(gradError(w, g, largest, loss), name).toBeLessThanOrEqual(1e-3);
    }
    const scratch = studentFromScratch(model, { numLayers: 2, intermediateSize: 96 }, 1);
    expect(scratch.config).toMatchObject({ numLayers: 2, intermediateSize: 96, hiddenSize: 64 });
    expect(scratch.tensors.get('model.layers.1.mlp.down_proj.weight')!.shape).toEqual([64, 96]);
    expect(() => distillObjective(model, studentFromScratch(model, { hiddenSize: 32, headDim: 4 }, 1), { temperature: 1, kl: 1, ce: 0, hiddenMse: 1, topK: 0 }))
      .toThrow(/hidden-state MSE needs equal hidden sizes \(teacher 64, student 32\)/);
  });
});
