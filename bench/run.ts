// `npm run bench`: forward throughput of every runtime on stories260K (../shared), eval throughput per task
// family, and quantization time per method; printed as tables and written to
// bench/results/forward-<model>-<adapter>-<date>.json with the device that produced it.
//   npm run bench [-- --prompt 128 --decode 64 --repeats 3]
//   npm run bench -- --shape llama-160m --no-cpu     random weights in a realistic shape (see SHAPES)
//   node --import ./node/register.mjs bench/cli/<name>.ts [--help]     one bench alone (bench/cli/ has one entry per bench)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSetFromPath } from '../node/files';
import { getNodeGpuDevice } from '../node/gpu';
import { describeAdapter } from '../src/gpu/device';
import { loadModel } from '../src/io/load';
import { CpuRuntime } from '../src/runtime/cpu-reference';
import { WebGpuRuntime } from '../src/runtime/webgpu';
import type { Runtime } from '../src/runtime/runtime';
import { cliArgs } from './cli/args';
import { benchEval, formatEvalTable, type EvalBenchRow } from './eval';
import { benchMatmul } from './matmul';
import { benchMerge, formatMergeTable } from './merge';
import { benchPrune } from './prune';
import { benchQuant } from './quant';
import { benchSampling } from './sampling';
import { benchPredict } from './predict';
import { benchTrain, TRAIN_BENCH_DEFAULTS } from './train';
import {
  benchForward, benchPrompt, checkAgainst, formatTable, randomModel, SHAPES, type ForwardBenchOptions, type ForwardBenchRow,
} from './forward';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.SHARED_DIR ?? resolve(ROOT, '../shared');
const MODEL = join(SHARED, 'models/stories260K/stories260K.gguf');

const USAGE = `npm run bench [-- --prompt 128 --decode 64 --repeats 3 --model FILE --shape ${Object.keys(SHAPES).join('|')} --no-cpu --forward-only]
One bench alone: node --import ./node/register.mjs bench/cli/<name>.ts [--help]; name is one of matmul, merge, onnx, predict, prune, quant, sampling, train.`;
const values = cliArgs(USAGE, {
  prompt: { type: 'string', default: '128' },
  decode: { type: 'string', default: '64' },
  repeats: { type: 'string', default: '3' },
  model: { type: 'string', default: MODEL },
  shape: { type: 'string' },
  'no-cpu': { type: 'boolean', default: false },
  'forward-only': { type: 'boolean', default: false },
});
const opts: ForwardBenchOptions = { promptTokens: Number(values.prompt), decodeTokens: Number(values.decode), repeats: Number(values.repeats) };

const shape = values.shape ? SHAPES[values.shape] : undefined;
if (values.shape && !shape) {
  console.error(`bench: unknown --shape ${values.shape}; known: ${Object.keys(SHAPES).join(', ')}`);
  process.exit(1);
}
if (!shape && !existsSync(values.model)) {
  console.error(`bench: model not found at ${values.model} (set SHARED_DIR or --model)`);
  process.exit(1);
}
const model = shape ? randomModel(shape) : await loadModel(fileSetFromPath(values.model));
const maxPositions = opts.promptTokens + opts.decodeTokens + 1;
const prompt = benchPrompt(model, opts.promptTokens);

const cpu = new CpuRuntime(model, { maxPositions: Math.max(maxPositions, 64) });
const device = await getNodeGpuDevice();
const gpu = await WebGpuRuntime.create(device, model, { maxPositions: Math.max(maxPositions, 64) });
const adapter = describeAdapter(device);
// The CPU oracle is slow on large shapes, so those are checked on a shorter prompt.
const checkTokens = shape ? 8 : 64;
const maxAbsDiff = await checkAgainst(cpu, gpu, benchPrompt(model, checkTokens), 1e-3);
console.log(`${model.source.name}: WebGPU vs CPU logits over ${checkTokens} prompt tokens + 4 decode steps, max |diff| = ${maxAbsDiff.toExponential(2)} (ok)`);
console.log(`WebGPU adapter: ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ')}\n`);

const rows: ForwardBenchRow[] = [];
if (!values['no-cpu']) rows.push(await benchForward('cpu (reference, f32)', cpu, prompt, opts));
rows.push(await benchForward('webgpu (Dawn, f32)', gpu, prompt, opts));
console.log(formatTable(rows, opts));

// Eval throughput (items/s per task family) and quantization time per method need the real fixture.
const dataDir = join(SHARED, 'data');
let evalRows: EvalBenchRow[] = [];
let quant: object | null = null;
let predict: object | null = null;
if (!shape && existsSync(dataDir) && !values['forward-only']) {
  console.log('\neval throughput (items/s), CPU reference vs WebGPU:');
  const runtimes = [{ label: 'webgpu', rt: gpu as Runtime }];
  if (!values['no-cpu']) runtimes.unshift({ label: 'cpu', rt: new CpuRuntime(model) });
  const evalGpu = await WebGpuRuntime.create(device, model);
  runtimes[runtimes.length - 1].rt = evalGpu;
  evalRows = await benchEval(model, runtimes, dataDir);
  console.log(formatEvalTable(evalRows));
  evalGpu.dispose();
  console.log('\nquantization passes (CPU) on stories260K:');
  quant = await benchQuant();
  console.log('\nquality prediction: cost of the predictor\'s features vs the full evaluation (CPU) on stories260K:');
  predict = await benchPredict();
}
let onnx: object | null = null;
if (!shape && !values['forward-only'] && existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium')) {
  console.log('\ndecode in Chromium: our WebGPU forward vs onnxruntime-web WebGPU on the same exported model:');
  // loaded only here: it brings Vite and Playwright, which a bundled bench on a GPU box leaves out
  const { benchOnnx, formatOnnxTable } = await import('./onnx');
  const r = await benchOnnx({ promptTokens: 32, decodeTokens: 32, repeats: 3 });
  console.log(formatOnnxTable(r));
  onnx = r;
}
let matmul: object | null = null;
if (!values['forward-only']) {
  console.log('\nmatmul throughput per weight format on WebGPU (after a check against the CPU oracle):');
  matmul = await benchMatmul(device);
}
if (!shape && !values['forward-only']) {
  console.log('\ntraining throughput, CPU Trainer vs WebGPU trainer (healing: bench/train.ts):');
  await benchTrain(device, { ...TRAIN_BENCH_DEFAULTS, healSteps: 0, finetuneSteps: 0 }); // writes bench/results/train-*.json
}
let prune: object | null = null;
if (!shape && !values['forward-only']) {
  console.log('\npruning: packed 2:4 / 4:8 sparse matmul vs dense on WebGPU, and bytes per method:');
  prune = await benchPrune(device);
}
let merge: object | null = null;
if (!values['forward-only']) {
  console.log('\nmerging per method (CPU; three random models read lazily, merged tensor by tensor):');
  const rows = await benchMerge();
  console.log(formatMergeTable(rows));
  merge = rows;
}
let sampling: object | null = null;
if (!values['forward-only']) {
  console.log('\ntoken sampling (CPU), ns per token: the full-sort reference vs sample (bucketed partial sort), same tokens:');
  sampling = benchSampling(); // also writes bench/results/sampling-*.json
}
gpu.dispose();

const date = new Date().toISOString().slice(0, 10);
// model and adapter in the name, so runs on different machines on the same day do not overwrite each other
const slug = (t: string) => t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const tag = [values.shape ?? 'stories260k', slug(adapter.architecture || adapter.device || adapter.vendor || 'gpu'), date].join('-');
const out = join(ROOT, 'bench/results', `forward-${tag}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({
  bench: 'forward', date: new Date().toISOString(), model: model.source.name, config: model.config, options: opts,
  check: { tokens: checkTokens, maxAbsDiff, tolerance: 1e-3 }, kernels: gpu.kernels,
  host: { platform: platform(), arch: arch(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  adapter, results: rows, eval: evalRows, quant, predict, matmul, onnx, prune, merge, sampling,
}, null, 2) + '\n');
console.log(`\nwrote ${out}`);
process.exit(0); // Dawn keeps the event loop alive otherwise
