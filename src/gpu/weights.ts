// How each stored dtype reaches the GPU, and which matmul kernels read it there: one table entry
// per dtype. Today every dtype is dequantized to f32 on upload (toFloat32, the CPU oracle of each
// format); a quantized kernel slots in later as a new GpuWeightFormat, an upload that keeps the
// raw blocks, and a MATMUL entry, without touching the runtime.
import { DTYPES, type DTypeId } from '../model/dtype';
import { toFloat32, type Tensor } from '../model/tensor';
import { uploadBuffer } from './buffers';
import { matmulF32, matvecF32 } from './kernels';

export type GpuWeightFormat = 'f32';

export interface GpuWeight {
  readonly format: GpuWeightFormat;
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
}

type Upload = (device: GPUDevice, t: Tensor) => GpuWeight;

const asF32: Upload = (device, t) => ({
  format: 'f32',
  shape: t.shape,
  // f32 bytes go up as stored; other dtypes are decoded on the CPU first.
  buffer: uploadBuffer(device, t.name, t.dtype === 'f32' ? t.data : toFloat32(t)),
});

const UPLOAD: Record<DTypeId, Upload> = Object.fromEntries(Object.keys(DTYPES).map((id) => [id, asF32])) as Record<DTypeId, Upload>;

/** A matrix that a matmul kernel reads, in whatever GPU format its dtype maps to. */
export const uploadMatrix = (device: GPUDevice, t: Tensor): GpuWeight => UPLOAD[t.dtype](device, t);

/** Norm weights, biases and the embedding table: always plain f32 (small, or gathered by row). */
export const uploadVector = (device: GPUDevice, t: Tensor): GPUBuffer => asF32(device, t).buffer;

/** The batch (tiled) and single-row kernels for y = x W^T with W in each format. */
export const MATMUL: Record<GpuWeightFormat, { batch: typeof matmulF32; single: typeof matvecF32 }> = {
  f32: { batch: matmulF32, single: matvecF32 },
};
