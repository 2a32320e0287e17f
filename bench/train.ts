// Training on stories260K: throughput (tokens/s) of the CPU Trainer and the WebGPU trainer under one
// TrainConfig, timed only after their first-step losses agree; healing: the model pruned to 50% with
// Wanda, then distilled from the dense model on WebGPU (sparsity kept), with held-out perplexity before
// and after; and fine-tuning on a WikiText slice on WebGPU (WikiText ppl down, TinyStories ppl up).
// Prints tables and writes bench/results/{train,heal,finetune}-<adapter>-<date>.json (one per section run).
//   node --import ./node/register.mjs bench/cli/train.ts [--steps 8] [--heal-steps 60] [--finetune-steps 40] [--no-heal]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSetFromPath } from '../node/files';
import { perplexity } from '../src/eval/perplexity';
import { describeAdapter } from '../src/gpu/device';
import { trainOnGpu } from '../src/gpu/train/run';
import { loadModel } from '../src/io/load';
import type { Model } from '../src/model/model';
import { createTokenizer } from '../src/model/tokenizer/index';
import { calibrationFromTokens } from '../src/passes/calibration';
import { TrainConfig, Trainer, crossEntropyObjective, fullTrainable, weightsOf, windowBatches } from '../src/passes/distill/index';
import { passes } from '../src/passes/index';
import { WebGpuRuntime } from '../src/runtime/webgpu';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.SHARED_DIR ?? resolve(REPO, '../shared');

export interface TrainBenchOptions {
  /** Timed optimizer steps per backend (after one warm-up step). */
  steps: number;
  batch: number;
  seqLen: number;
  /** Distillation steps of the healing run (0: skip it). */
  healSteps: number;
  /** Steps of the WikiText fine-tuning run (0: skip it). */
  finetuneSteps: number;
}

export const TRAIN_BENCH_DEFAULTS: TrainBenchOptions = { steps: 8, batch: 4, seqLen: 64, healSteps: 60, finetuneSteps: 40 };

async function stories(): Promise<{ model: Model; train: number[]; heldOut: number[] }> {
  const model = await loadModel(fileSetFromPath(resolve(SHARED, 'models/stories260K/stories260K.gguf')));
  const tokens = createTokenizer(model.tokenizer!).encode(readFileSync(resolve(SHARED, 'data/tinystories/valid_a.txt'), 'utf8'));
  const cut = Math.floor(tokens.length * 0.8);
  return { model, train: tokens.slice(0, cut), heldOut: tokens.slice(cut) };
}

/** Tokens/s of the CPU Trainer and of trainOnGpu on the same windows; throws if their first losses disagree. */
async function throughput(device: GPUDevice, model: Model, tokens: number[], o: TrainBenchOptions) {
  const cfg = { steps: o.steps + 1, batch: o.batch, seqLen: o.seqLen, lr: 1e-3, schedule: 'constant' as const, seed: 1 };
  const config = TrainConfig.parse(cfg);
  const tokensPerStep = o.batch * o.seqLen;
  // CPU: the first update is the warm-up, the rest are timed
  const cpu = new Trainer(model, fullTrainable(weightsOf(model)), crossEntropyObjective(model.config.vocabSize),
    windowBatches(tokens, { ...config, bosId: model.config.bosTokenId }), config);
  const first = cpu.trainStep();
  const t0 = performance.now();
  while (!cpu.done) cpu.trainStep();
  const cpuTps = (o.steps * tokensPerStep) / ((performance.now() - t0) / 1000);
  // WebGPU: the same config; its own timer includes creation, so time steps 2.. from the progress callback
  let t1 = 0;
  const gpu = await trainOnGpu(device, model, tokens, { ...cfg, onProgress: (s) => { if (s.step === 1) t1 = performance.now(); } });
  const gpuTps = (o.steps * tokensPerStep) / ((performance.now() - t1) / 1000);
  const d = Math.abs(gpu.history[0].loss - first.loss);
  if (!(d < 1e-3)) throw new Error(`first-step loss: WebGPU ${gpu.history[0].loss} vs CPU ${first.loss}: not timing a wrong result`);
  return { tokensPerStep, cpuTokensPerSecond: cpuTps, gpuTokensPerSecond: gpuTps, firstLoss: first.loss, firstLossDiff: d };
}

/** Wanda 50% then distillation from the dense model on WebGPU; held-out perplexity at each stage. */
async function heal(device: GPUDevice, model: Model, train: number[], heldOut: number[], o: TrainBenchOptions) {
  const bosId = model.config.bosTokenId;
  const ppl = async (m: Model) => {
    const rt = await WebGpuRuntime.create(device, m, { maxPositions: 256 });
    const r = await perplexity(rt, heldOut, { contextLength: 256, maxChunks: 16, bosId });
    rt.dispose();
    return r.ppl;
  };
  const calibration = calibrationFromTokens(train, 32, 128, 1, bosId, 'valid_a.txt first 80%, 32 x 128');
  const wanda = passes.wanda;
  const pruned = await wanda.apply(model, wanda.params.parse({ sparsity: 0.5 }), { calibration });
  const [dense, before] = [await ppl(model), await ppl(pruned)];
  const cfg = {
    steps: o.healSteps, batch: o.batch, seqLen: o.seqLen, lr: 2e-3, warmup: 10, schedule: 'cosine' as const, seed: 1,
    teacher: model, loss: { kl: 1, ce: 0, temperature: 1 }, keepSparsity: true,
  };
  const t0 = performance.now();
  const healed = await trainOnGpu(device, pruned, train, cfg);
  const seconds = (performance.now() - t0) / 1000;
  const after = await ppl(healed.model);
  const zeros = (m: Model) => [...weightsOf(m)].filter(([n]) => /layers\.\d+\.(self_attn|mlp)\..*weight/.test(n)).reduce((s, [, w]) => s + w.filter((v) => v === 0).length, 0);
  return {
    config: { steps: cfg.steps, batch: cfg.batch, seqLen: cfg.seqLen, lr: cfg.lr, warmup: cfg.warmup, schedule: cfg.schedule, loss: cfg.loss, keepSparsity: true },
    eval: 'TinyStories valid_a last 20%, 16 chunks of 256 (llama.cpp protocol)',
    pplDense: dense, pplPruned: before, pplHealed: after,
    recovered: (before - after) / (before - dense),
    zerosPruned: zeros(pruned), zerosHealed: zeros(healed.model),
    seconds, firstKl: healed.history[0].parts.kl, lastKl: healed.history.at(-1)!.parts.kl,
  };
}

/** Fine-tuning on the first half of WikiText-2 test on WebGPU; ppl on its second half and on TinyStories. */
async function finetuneWiki(device: GPUDevice, model: Model, stories: number[], o: TrainBenchOptions) {
  const bosId = model.config.bosTokenId;
  const wiki = createTokenizer(model.tokenizer!).encode(readFileSync(resolve(SHARED, 'data/wikitext2/wiki.test.raw'), 'utf8').slice(0, 200_000));
  const half = Math.floor(wiki.length / 2);
  const ppl = async (m: Model, tokens: number[]) => {
    const rt = await WebGpuRuntime.create(device, m, { maxPositions: 256 });
    const r = await perplexity(rt, tokens, { contextLength: 256, maxChunks: 16, bosId });
    rt.dispose();
    return r.ppl;
  };
  const cfg = { steps: o.finetuneSteps, batch: o.batch, seqLen: o.seqLen, lr: 2e-3, warmup: 4, schedule: 'cosine' as const, seed: 1 };
  const t0 = performance.now();
  const tuned = await trainOnGpu(device, model, wiki.slice(0, half), cfg);
  const seconds = (performance.now() - t0) / 1000;
  return {
    config: cfg, data: 'wiki.test.raw first 200k chars: train on the first half of its tokens, ppl on the second half; TinyStories valid_a last 20%; 16 chunks of 256',
    base: { wikitext: await ppl(model, wiki.slice(half)), tinystories: await ppl(model, stories) },
    tuned: { wikitext: await ppl(tuned.model, wiki.slice(half)), tinystories: await ppl(tuned.model, stories) },
    seconds, firstLoss: tuned.history[0].loss, lastLoss: tuned.history.at(-1)!.loss,
  };
}

export async function benchTrain(device: GPUDevice, o: TrainBenchOptions = TRAIN_BENCH_DEFAULTS) {
  const { model, train, heldOut } = await stories();
  const t = await throughput(device, model, train, o);
  console.log(`training stories260K, ${o.batch} x ${o.seqLen} tokens per step, ${o.steps} timed steps (first-step loss ${t.firstLoss.toFixed(4)}, CPU vs WebGPU |diff| ${t.firstLossDiff.toExponential(1)}):`);
  console.log(`${'backend'.padEnd(22)} ${'tokens/s'.padStart(10)}`);
  console.log(`${'cpu (reference, f32)'.padEnd(22)} ${t.cpuTokensPerSecond.toFixed(0).padStart(10)}`);
  console.log(`${'webgpu (Dawn, f32)'.padEnd(22)} ${t.gpuTokensPerSecond.toFixed(0).padStart(10)}`);
  const adapter = describeAdapter(device);
  const write = (section: string, body: object) => {
    const date = new Date().toISOString();
    const slug = (x: string) => x.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const file = resolve(REPO, `bench/results/${section}-${slug(adapter.architecture || adapter.device || adapter.vendor || 'gpu')}-${date.slice(0, 10)}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ bench: section, date, model: 'stories260K', options: o, adapter, ...body }, null, 2) + '\n');
    console.log(`wrote ${file}`);
  };
  write('train', { throughput: t });
  let healing: Awaited<ReturnType<typeof heal>> | null = null;
  if (o.healSteps > 0) {
    healing = await heal(device, model, train, heldOut, o);
    const h = healing;
    console.log(`\nhealing on WebGPU: Wanda 50% then ${o.healSteps} steps of KL to the dense model (${o.batch} x ${o.seqLen} tokens, sparsity kept), ${h.seconds.toFixed(0)} s; ${h.eval}:`);
    console.log(`${'model'.padEnd(24)} ${'ppl'.padStart(8)}`);
    for (const [k, v] of [['dense', h.pplDense], ['Wanda 50%', h.pplPruned], ['Wanda 50% + healing', h.pplHealed]] as const) {
      console.log(`${k.padEnd(24)} ${v.toFixed(3).padStart(8)}`);
    }
    console.log(`recovered ${(100 * h.recovered).toFixed(1)}% of the ppl lost by pruning; zeros in layer matrices ${h.zerosPruned} -> ${h.zerosHealed}`);
    write('heal', { healing });
  }
  let finetune: Awaited<ReturnType<typeof finetuneWiki>> | null = null;
  if (o.finetuneSteps > 0) {
    finetune = await finetuneWiki(device, model, heldOut, o);
    const f = finetune;
    console.log(`\nfine-tuning on WikiText on WebGPU, ${o.finetuneSteps} steps of ${o.batch} x ${o.seqLen} tokens, ${f.seconds.toFixed(0)} s (loss ${f.firstLoss.toFixed(3)} -> ${f.lastLoss.toFixed(3)}):`);
    console.log(`${'model'.padEnd(12)} ${'WikiText ppl'.padStart(13)} ${'TinyStories ppl'.padStart(16)}`);
    for (const [k, v] of [['base', f.base], ['fine-tuned', f.tuned]] as const) {
      console.log(`${k.padEnd(12)} ${v.wikitext.toFixed(2).padStart(13)} ${v.tinystories.toFixed(3).padStart(16)}`);
    }
    write('finetune', { finetune });
  }
  return { throughput: t, healing, finetune };
}
