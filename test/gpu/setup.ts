// What every kernel test file sets up the same way: one device, pipeline cache and uniform arena per file
// (acquired and compiled in beforeAll), seeded random inputs, buffer helpers, one dispatch run to completion,
// and the tolerance check against the CPU twin: max |gpu - cpu| <= tol * max(1, max |cpu|).
import { beforeAll, expect } from 'vitest';
import { getNodeGpuDevice } from '../../node/gpu';
import { readFloats, storageBuffer, uploadBuffer } from '../../src/gpu/buffers';
import { GpuContext } from '../../src/gpu/context';
import type { AdapterClass } from '../../src/gpu/device';
import { Dispatch } from '../../src/gpu/dispatch';
import type { Kernel, KernelBuffers, KernelParams } from '../../src/gpu/kernel';
import { UniformArena } from '../../src/gpu/uniforms';

// live bindings: set by useGpu's beforeAll, read by the importing file's tests (each test file has its own copy)
export let device: GPUDevice;
export let ctx: GpuContext;
export let arena: UniformArena;

/** Acquires the device and compiles `kernels` before the calling file's tests run. */
export function useGpu(kernels: Kernel[]): void {
  beforeAll(async () => {
    device = await getNodeGpuDevice();
    ctx = GpuContext.for(device);
    await ctx.compile(...kernels);
    arena = new UniformArena(device);
  });
}

/** The kernel family this adapter runs natively (tests force the other one where they cover both). */
export async function nativeKernels(): Promise<AdapterClass> {
  return GpuContext.for(await getNodeGpuDevice()).adapterClass;
}

/** Seeded uniform numbers in [0, 1) (mulberry32), so a failure reproduces. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded uniform values in [-scale, scale) (mulberry32), so a failure reproduces. */
export function random(seed: number | (() => number)) {
  const next = typeof seed === 'number' ? mulberry32(seed) : seed;
  return (n: number, scale = 1) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

/** One dispatch of `kernel` (or a same-signature `variant`, sharing its bind group), waited for. */
export async function runOnce<K extends Kernel>(kernel: K, buffers: KernelBuffers<K>, params: KernelParams<K>, variant?: K) {
  const d = new Dispatch(ctx, arena, kernel, buffers);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  d.record(pass, params, variant);
  pass.end();
  arena.flush();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}

export function expectClose(gpu: Float32Array, cpu: ArrayLike<number>, tol = 1e-5) {
  expect(gpu.length).toBe(cpu.length);
  let diff = 0, mag = 1;
  for (let i = 0; i < cpu.length; i++) {
    diff = Math.max(diff, Math.abs(gpu[i] - cpu[i]));
    mag = Math.max(mag, Math.abs(cpu[i]));
  }
  expect(diff / mag, `max abs diff ${diff} (scale ${mag})`).toBeLessThanOrEqual(tol);
}

export const up = (data: Float32Array | Uint32Array) => uploadBuffer(device, 'test', data);
export const empty = (floats: number) => storageBuffer(device, 'test', floats * 4);
export const read = (b: GPUBuffer, n: number) => readFloats(device, b, n);
