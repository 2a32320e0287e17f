// Matmul throughput per weight format on WebGPU: f32 against the dequantizing kernels, for a decode-shaped
// product (1 x K times W^T, the matvec kernels) and a prefill-shaped one (128 x K, the batched kernels),
// with the kernel family the runtime would pick on this adapter. Each format is checked against the CPU
// oracle (toFloat32 + matmulT) before it is timed. Reports time per product, GB/s of weights read (the
// decode bound) and GFLOP/s (2 * rows * K * N per product). Timed with GPU timestamps when the device has
// 'timestamp-query'; otherwise by wall clock. A first wall-clock run on an H200 (CPU work interleaved,
// 200 dispatches per submission) gave order-dependent times, later formats up to 4x slower than the same
// kernel in a fresh process; garbage collection and per-submission costs are the likely cause, hence the
// CPU work up front, longer submissions and the differential timing below. Software adapters' numbers
// mean little (they share the CPU cores with everything else).
//   node --import ./node/register.mjs bench/cli/matmul.ts [--dim 4096] [--rows 128]
import { readFloats, storageBuffer, uploadBuffer } from '../src/gpu/buffers';
import { GpuContext } from '../src/gpu/context';
import { describeAdapter } from '../src/gpu/device';
import { Dispatch } from '../src/gpu/dispatch';
import { UniformArena } from '../src/gpu/uniforms';
import { MATMUL, matmulKernelsFor, uploadMatrix, type GpuWeight, type MatmulKernels } from '../src/gpu/weights';
import { encode, type DTypeId } from '../src/model/dtype';
import { f32Tensor, makeTensor, toFloat32, type Tensor } from '../src/model/tensor';
import { matmulT } from '../src/runtime/cpu-reference';

const FORMATS: DTypeId[] = ['f32', 'q8_0', 'q5_0', 'q4_1', 'q4_0', 'int8_g32', 'int4_g32', 'int4_g128', 'int3_g64', 'int2_g64'];
/** Relative tolerance of the check (the CPU sums in double, the GPU in f32 over K terms). */
const TOL = 1e-4;
/**
 * On a GPU, the timed dispatches cycle through this many bytes of weight copies, so a matrix that fits
 * in L2 (H100/H200: 50-60 MB) is still read from memory, as in a model much larger than the cache.
 */
const CYCLE_BYTES = 512 << 20;

export interface MatmulBenchOptions {
  /** K = N (default 4096 on a GPU; 512 on a software adapter, where a 128 x 2048 x 2048 product takes seconds). */
  dim?: number;
  /** Rows of the prefill-shaped product (default 128). */
  prefillRows?: number;
  formats?: DTypeId[];
}

export interface MatmulBenchRow {
  format: DTypeId;
  shape: 'decode' | 'prefill';
  rows: number;
  kernel: string;
  weightBytes: number;
  usPerMatmul: number;
  weightGBps: number;
  gflops: number;
  /** f32's time / this format's time, same shape. */
  speedupVsF32: number;
  maxRelDiff: number;
}

function random(seed: number) {
  let a = seed >>> 0;
  return (n: number, scale = 1) => Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  });
}

export async function benchMatmul(device: GPUDevice, opts: MatmulBenchOptions = {}): Promise<object> {
  const ctx = GpuContext.for(device);
  const cls = ctx.adapterClass;
  const K = opts.dim ?? (cls === 'gpu' ? 4096 : 512), N = K;
  const M = opts.prefillRows ?? 128;
  const formats = opts.formats ?? FORMATS;
  // dispatches per timed submission: enough GPU work (tens of ms on a GPU) that fixed submit costs fade
  const reps = cls === 'gpu' ? { decode: 1000, prefill: 100 } : { decode: 8, prefill: 2 };
  const clock = device.features.has('timestamp-query') ? 'gpu timestamps' : 'wall clock, differential';
  const arena = new UniformArena(device);
  const xs = random(2)(M * K);
  const x = uploadBuffer(device, 'x', xs);
  const out = storageBuffer(device, 'out', M * N * 4);
  const noBias = storageBuffer(device, 'bias', 4);
  const rows: MatmulBenchRow[] = [];
  const f32Us: Record<string, number> = {};

  // All the CPU work first (encoding, decoding, reference rows), so no garbage collection of large
  // arrays lands inside a timed region; only the reference rows are kept.
  const checkRows = { decode: [0], prefill: [0, M >> 1, M - 1] };
  const prepared = (() => {
    const values = random(1)(N * K, 0.05);
    return formats.map((format) => {
      const t: Tensor = format === 'f32' ? f32Tensor('w', [N, K], values.slice()) : makeTensor('w', [N, K], format, encode(format, values));
      const wf = toFloat32(t);
      const want = new Map([...new Set(Object.values(checkRows).flat())].map((r) => [r, matmulT(xs.subarray(r * K, (r + 1) * K), wf, 1, K, N)]));
      return { format, t, want };
    });
  })();

  for (const { format, t, want } of prepared) {
    const w = uploadMatrix(device, format, [t]);
    if (w.format !== format) throw new Error(`bench: ${format} went up as ${w.format}`);
    const family = MATMUL[w.format][cls];
    await ctx.compile(...matmulKernelsFor([w.format], cls));
    const copies = cls === 'gpu' ? Math.max(1, Math.min(reps.decode, Math.ceil(CYCLE_BYTES / w.buffer.size))) : 1;
    const buffers = [w.buffer, ...Array.from({ length: copies - 1 }, () => copyOf(device, w))];

    for (const [shape, m] of [['decode', 1], ['prefill', M]] as const) {
      const kernel = m === 1 ? (K % 4 === 0 && family.singleVec4) || family.single : family.batch;
      const params = { rows: m, inDim: K, outDim: N, flags: 0 };
      const dispatches = Array.from({ length: reps[shape] }, (_, i) =>
        new Dispatch(ctx, arena, family.batch, { x, w: buffers[i % buffers.length], bias: noBias, out }));

      // Correct first: the whole decode product; for prefill its first, middle and last rows.
      await elapsedMs(device, arena, [dispatches[0]], params, kernel, false);
      const got = await readFloats(device, out, m * N);
      let diff = 0, mag = 1;
      for (const r of checkRows[shape]) {
        const ref = want.get(r)!;
        for (let n = 0; n < N; n++) {
          diff = Math.max(diff, Math.abs(got[r * N + n] - ref[n]));
          mag = Math.max(mag, Math.abs(ref[n]));
        }
      }
      if (!(diff / mag <= TOL)) throw new Error(`bench: ${kernel.label} differs from the CPU oracle by ${diff} (scale ${mag}): not timing a wrong result`);

      const us = (await msPerDispatch(device, arena, dispatches, params, kernel, cls === 'gpu' ? 5 : 3)) * 1000;
      if (format === 'f32') f32Us[shape] = us;
      rows.push({
        format, shape, rows: m, kernel: kernel.label, weightBytes: t.data.byteLength,
        usPerMatmul: us, weightGBps: t.data.byteLength / us / 1e3, gflops: (2 * m * K * N) / us / 1e3,
        speedupVsF32: f32Us[shape] ? f32Us[shape] / us : NaN, maxRelDiff: diff / mag,
      });
    }
    for (const b of buffers) b.destroy();
  }
  x.destroy();
  out.destroy();
  noBias.destroy();
  arena.destroy();

  const adapter = describeAdapter(device);
  console.log(`matmul y = x W^T, W [${N}, ${K}], on ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ') || 'WebGPU'} (${cls} kernels; timed by ${clock}); every format checked against the CPU oracle first`);
  console.log(formatMatmulTable(rows));
  return { bench: 'matmul', date: new Date().toISOString(), adapter, kernels: cls, clock, K, N, prefillRows: M, tolerance: TOL, rows };
}

type Params = { rows: number; inDim: number; outDim: number; flags: number };

/**
 * GPU time per dispatch, best of `trials`. With timestamp queries, the pass's own duration. Otherwise wall clock
 * from submit to onSubmittedWorkDone, which also counts a fixed cost per submission (Dawn recording the
 * command buffer, the completion callback's latency): timing the list once and twice in one submission
 * and taking the difference cancels it.
 */
async function msPerDispatch(device: GPUDevice, arena: UniformArena, ds: Dispatch<MatmulKernels['batch']>[], params: Params, kernel: MatmulKernels['batch'], trials: number) {
  const best = async (list: Dispatch<MatmulKernels['batch']>[]) => {
    let ms = Infinity;
    for (let trial = 0; trial < trials; trial++) ms = Math.min(ms, await elapsedMs(device, arena, list, params, kernel, true));
    return ms;
  };
  if (device.features.has('timestamp-query')) return (await best(ds)) / ds.length;
  // (a Dispatch may appear twice in one submission here: its params are the same both times)
  const once = await best(ds), twice = await best([...ds, ...ds]);
  return twice > once ? (twice - once) / ds.length : twice / (2 * ds.length);
}

/** Record the dispatches into one pass and submit; the pass's GPU time (timestamps) or the wall time in ms. */
async function elapsedMs(device: GPUDevice, arena: UniformArena, ds: Dispatch<MatmulKernels['batch']>[], params: Params, kernel: MatmulKernels['batch'], timed: boolean) {
  const stamps = timed && device.features.has('timestamp-query');
  const querySet = stamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass(querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
  for (const d of ds) d.record(pass, params, kernel);
  pass.end();
  let resolved: GPUBuffer | undefined, staging: GPUBuffer | undefined;
  if (querySet) {
    resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.resolveQuerySet(querySet, 0, 2, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, staging, 0, 16);
  }
  const commands = enc.finish();
  arena.flush();
  await device.queue.onSubmittedWorkDone(); // the params upload and earlier work are not timed
  const t = performance.now();
  device.queue.submit([commands]);
  await device.queue.onSubmittedWorkDone();
  const wall = performance.now() - t;
  if (!staging) return wall;
  await staging.mapAsync(GPUMapMode.READ);
  const [begin, end] = new BigUint64Array(staging.getMappedRange());
  const ns = Number(end - begin);
  staging.unmap();
  for (const b of [staging, resolved!]) b.destroy();
  querySet!.destroy();
  return ns / 1e6;
}

/** Another buffer with the same weights, copied on the GPU. */
function copyOf(device: GPUDevice, w: GpuWeight): GPUBuffer {
  const b = storageBuffer(device, 'w_copy', w.buffer.size);
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(w.buffer, 0, b, 0, w.buffer.size);
  device.queue.submit([enc.finish()]);
  return b;
}

export function formatMatmulTable(rows: MatmulBenchRow[]): string {
  const head = ['format', 'shape', 'kernel', 'weights MB', 'us/matmul', 'weights GB/s', 'GFLOP/s', 'vs f32'];
  const body = rows.map((r) => [
    r.format, `${r.rows}x${r.shape}`, r.kernel, (r.weightBytes / 1e6).toFixed(1), r.usPerMatmul.toFixed(1),
    r.weightGBps.toFixed(1), r.gflops.toFixed(1), `${r.speedupVsF32.toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
