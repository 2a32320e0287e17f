// Pruning that pays: (1) the packed 2:4 / 4:8 sparse matmul against dense f32 on WebGPU, decode-shaped
// (1 x K times W^T, the memory-bound case the format is for) and prefill-shaped (128 rows), each checked
// against the dense CPU oracle before it is timed; (2) per pruning method on stories260K: bytes as stored,
// bytes with N:M matrices packed (what the WebGPU runtime uploads), parameters, time and a short perplexity.
// Prints tables and writes bench/results/prune-<adapter>-<date>.json.
//   node --import ./node/register.mjs bench/cli/prune.ts [--dim 4096]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSetFromPath } from '../node/files';
import { readFloats, storageBuffer, uploadBuffer } from '../src/gpu/buffers';
import { GpuContext } from '../src/gpu/context';
import { describeAdapter } from '../src/gpu/device';
import { Dispatch } from '../src/gpu/dispatch';
import { UniformArena } from '../src/gpu/uniforms';
import { MATMUL, matmulKernelsFor, uploadMatrix, type MatmulKernels } from '../src/gpu/weights';
import { perplexity } from '../src/eval/perplexity';
import { loadModel } from '../src/io/load';
import { nmBytes } from '../src/model/dtypes/sparse-nm';
import { modelBytes, modelParams, type Model } from '../src/model/model';
import { f32Tensor, makeTensor, toFloat32 } from '../src/model/tensor';
import { encode } from '../src/model/dtype';
import { createTokenizer } from '../src/model/tokenizer/index';
import { calibrationFromTokens } from '../src/passes/calibration';
import { passes, type PassId } from '../src/passes/index';
import { magnitudePrune } from '../src/passes/prune/magnitude';
import { CpuRuntime, matmulT } from '../src/runtime/cpu-reference';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.SHARED_DIR ?? resolve(REPO, '../shared');
const TOL = 1e-4;

interface MatmulRow { weights: string; format: string; shape: string; kernel: string; weightBytes: number; usPerMatmul: number; speedupVsDense: number; maxRelDiff: number }

function random(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number, scale = 1) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 * 2 - 1) * scale);
}

/** GPU time of one dispatch in ms: timestamps when the device has them, else wall clock differenced over 1x and 2x the list. */
async function msPer(device: GPUDevice, arena: UniformArena, d: Dispatch<MatmulKernels['batch']>, params: { rows: number; inDim: number; outDim: number; flags: number }, kernel: MatmulKernels['batch'], reps: number) {
  const run = async (n: number) => {
    let best = Infinity;
    for (let trial = 0; trial < 3; trial++) {
      const stamps = device.features.has('timestamp-query');
      const qs = stamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass(qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
      for (let i = 0; i < n; i++) d.record(pass, params, kernel);
      pass.end();
      const resolved = qs && device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const staging = qs && device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      if (qs) {
        enc.resolveQuerySet(qs, 0, 2, resolved!, 0);
        enc.copyBufferToBuffer(resolved!, 0, staging!, 0, 16);
      }
      const cmd = enc.finish();
      arena.flush();
      await device.queue.onSubmittedWorkDone();
      const t = performance.now();
      device.queue.submit([cmd]);
      await device.queue.onSubmittedWorkDone();
      let ms = performance.now() - t;
      if (staging) {
        await staging.mapAsync(GPUMapMode.READ);
        const [a, b] = new BigUint64Array(staging.getMappedRange());
        ms = Number(b - a) / 1e6;
        staging.unmap();
        staging.destroy();
        resolved!.destroy();
        qs!.destroy();
      }
      best = Math.min(best, ms);
    }
    return best;
  };
  if (device.features.has('timestamp-query')) return (await run(reps)) / reps;
  const once = await run(reps), twice = await run(2 * reps);
  return twice > once ? (twice - once) / reps : twice / (2 * reps);
}

export async function benchSparseMatmul(device: GPUDevice, dim?: number): Promise<{ K: number; rows: MatmulRow[] }> {
  const ctx = GpuContext.for(device), cls = ctx.adapterClass;
  const K = dim ?? (cls === 'gpu' ? 4096 : 512), N = K, M = 128;
  const reps = cls === 'gpu' ? { decode: 200, prefill: 20 } : { decode: 4, prefill: 1 };
  const arena = new UniformArena(device);
  const xs = random(2)(M * K);
  const x = uploadBuffer(device, 'x', xs), out = storageBuffer(device, 'out', M * N * 4), noBias = storageBuffer(device, 'bias', 4);
  const dense = random(1)(N * K, 0.05);
  const cases = [
    { weights: 'dense', format: 'f32', values: dense, dtype: 'f32' as const },
    { weights: '2:4', format: 'f32', values: magnitudePrune(dense, N, K, { sparsity: 0.5, nm: { n: 2, m: 4 } }), dtype: 'f32' as const },
    { weights: '2:4', format: 'f16', values: magnitudePrune(dense, N, K, { sparsity: 0.5, nm: { n: 2, m: 4 } }), dtype: 'f16' as const },
    { weights: '4:8', format: 'f32', values: magnitudePrune(dense, N, K, { sparsity: 0.5, nm: { n: 4, m: 8 } }), dtype: 'f32' as const },
  ];
  const rows: MatmulRow[] = [];
  const denseUs: Record<string, number> = {};
  for (const c of cases) {
    const t = c.dtype === 'f32' ? f32Tensor('w', [N, K], c.values) : makeTensor('w', [N, K], 'f16', encode('f16', c.values));
    const w = uploadMatrix(device, c.weights, [t]);
    await ctx.compile(...matmulKernelsFor([w.format], cls));
    const family = MATMUL[w.format][cls];
    const wf = toFloat32(t);
    for (const [shape, m] of [['decode', 1], ['prefill', M]] as const) {
      const kernel = m === 1 ? (K % 4 === 0 && family.singleVec4) || family.single : family.batch;
      const params = { rows: m, inDim: K, outDim: N, flags: 0 };
      const d = new Dispatch(ctx, arena, family.batch, { x, w: w.buffer, bias: noBias, out });
      await msPer(device, arena, d, params, kernel, 1);
      const got = await readFloats(device, out, N, (m - 1) * N);
      const want = matmulT(xs.subarray((m - 1) * K, m * K), wf, 1, K, N);
      let diff = 0, mag = 1;
      for (let n = 0; n < N; n++) {
        diff = Math.max(diff, Math.abs(got[n] - want[n]));
        mag = Math.max(mag, Math.abs(want[n]));
      }
      if (!(diff / mag <= TOL)) throw new Error(`bench: ${kernel.label} differs from the CPU oracle by ${diff} (scale ${mag}): not timing a wrong result`);
      const us = (await msPer(device, arena, d, params, kernel, reps[shape])) * 1000;
      if (c.weights === 'dense') denseUs[shape] = us;
      rows.push({ weights: c.weights, format: w.format, shape: `${m}x${shape}`, kernel: kernel.label, weightBytes: w.buffer.size, usPerMatmul: us, speedupVsDense: denseUs[shape] / us, maxRelDiff: diff / mag });
    }
    w.buffer.destroy();
  }
  for (const b of [x, out, noBias]) b.destroy();
  arena.destroy();
  return { K, rows };
}

interface MethodRow { method: string; seconds: number; params: number; bytes: number; packedBytes: number; ppl: number }

/** Bytes with every exactly-2:4/4:8 f32 block linear packed (f32 values), as the WebGPU runtime holds them. */
function packedBytesOf(m: Model, pattern?: { n: number; m: number }): number {
  let bytes = 0;
  for (const [name, t] of m.tensors) {
    const packable = pattern && t.dtype === 'f32' && t.shape.length === 2 && /^model\.layers\./.test(name) && t.shape[1] % pattern.m === 0;
    bytes += packable ? nmBytes({ ...pattern, valueType: 'f32', rows: t.shape[0], cols: t.shape[1] }) : t.data.byteLength;
  }
  return bytes;
}

export async function benchPruneMethods(): Promise<MethodRow[]> {
  const model = await loadModel(fileSetFromPath(resolve(SHARED, 'models/stories260K/stories260K.gguf')));
  const tokens = createTokenizer(model.tokenizer!).encode(readFileSync(resolve(SHARED, 'data/tinystories/valid_a.txt'), 'utf8'));
  const half = Math.floor(tokens.length / 2);
  const calibration = calibrationFromTokens(tokens.slice(half), 16, 128, 1, model.config.bosTokenId, `valid_a.txt tokens ${half}+`);
  const ppl = async (m: Model) => (await perplexity(new CpuRuntime(m, { maxPositions: 512 }), tokens, { contextLength: 512, maxChunks: 4, bosId: model.config.bosTokenId })).ppl;
  const cases: [string, PassId, Record<string, unknown>, { n: number; m: number }?][] = [
    ['magnitude 50%', 'magnitude', { sparsity: 0.5 }],
    ['wanda 50%', 'wanda', { sparsity: 0.5 }],
    ['sparsegpt 50%', 'sparsegpt', { sparsity: 0.5 }],
    ['wanda 2:4', 'wanda', { pattern: '2:4' }, { n: 2, m: 4 }],
    ['sparsegpt 2:4', 'sparsegpt', { pattern: '2:4' }, { n: 2, m: 4 }],
    ['sparsegpt 4:8', 'sparsegpt', { pattern: '4:8' }, { n: 4, m: 8 }],
    ['heads: 1 of 4 kv groups', 'heads', { sparsity: 0.25, unit: 'kv-group' }],
    ['heads: half of each group', 'heads', { sparsity: 0.5, unit: 'query' }],
    ['channels 25%', 'channels', { sparsity: 0.25 }],
    ['layers: 1 of 5', 'layers', { count: 1 }],
  ];
  const rows: MethodRow[] = [{ method: 'dense f32', seconds: 0, params: modelParams(model), bytes: modelBytes(model), packedBytes: modelBytes(model), ppl: await ppl(model) }];
  for (const [method, id, params, pattern] of cases) {
    const t = performance.now();
    const out = await passes[id].apply(model, passes[id].params.parse(params) as never, { calibration });
    rows.push({ method, seconds: (performance.now() - t) / 1000, params: modelParams(out), bytes: modelBytes(out), packedBytes: packedBytesOf(out, pattern), ppl: await ppl(out) });
  }
  return rows;
}

export async function benchPrune(device: GPUDevice, dim?: number): Promise<object> {
  const adapter = describeAdapter(device);
  const mm = await benchSparseMatmul(device, dim);
  console.log(`sparse N:M matmul vs dense f32, W [${mm.K}, ${mm.K}] on ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ') || 'WebGPU'}; each checked against the CPU oracle first`);
  const table = (head: string[], body: string[][], left: number) => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
  };
  console.log(table(['weights', 'format', 'shape', 'kernel', 'weights MB', 'us/matmul', 'vs dense'], mm.rows.map((r) => [
    r.weights, r.format, r.shape, r.kernel, (r.weightBytes / 1e6).toFixed(2), r.usPerMatmul.toFixed(1), `${r.speedupVsDense.toFixed(2)}x`,
  ]), 4));
  const fixtures = ['models/stories260K/stories260K.gguf', 'data/tinystories/valid_a.txt'].map((f) => resolve(SHARED, f));
  const methods = fixtures.every(existsSync) ? await benchPruneMethods() : [];
  if (!methods.length) console.log(`\nbytes per pruning method: skipped, fixtures absent (${fixtures.join(', ')})`);
  else console.log('\nbytes per pruning method on stories260K (block linears pruned; CPU reference; ppl over 4 chunks of 512):');
  const base = methods[0];
  if (base) console.log(table(['method', 'seconds', 'params', 'bytes', 'packed bytes', 'saved', 'ppl'], methods.map((r) => [
    r.method, r.seconds.toFixed(1), String(r.params), String(r.bytes), String(r.packedBytes), `${((1 - r.packedBytes / base.bytes) * 100).toFixed(1)}%`, r.ppl.toFixed(3),
  ]), 1));
  const result = { bench: 'prune', date: new Date().toISOString(), adapter, kernels: GpuContext.for(device).adapterClass, matmul: mm, methods };
  const slug = (adapter.architecture || adapter.device || adapter.vendor || 'gpu').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const file = resolve(REPO, `bench/results/prune-${slug}-${result.date.slice(0, 10)}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  return result;
}
