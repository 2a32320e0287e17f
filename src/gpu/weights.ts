// How each stored dtype reaches the GPU, and which matmul kernels read it there: one table entry
// per dtype. Block-quantized dtypes (llama.cpp's q8_0/q4_0/q4_1/q5_0 and our int family) keep their
// raw blocks on the GPU and are dequantized on the fly by their own matmuls (kernels.ts, QUANT_MATMUL);
// floats (f16, bf16) are widened to f32 on upload, with toFloat32, the CPU oracle of each format.
import { DTYPES, type DTypeId } from '../model/dtype';
import { toFloat32, type Tensor } from '../model/tensor';
import { uploadBuffer } from './buffers';
import type { AdapterClass } from './device';
import {
  QUANT_MATMUL, matmulF32, matmulF32Blocked, matvecF32, matvecF32Serial, matvecF32Vec4, type QuantFormat,
} from './kernels';
import { SPARSE_MATMUL, uploadSparse, type SparseFormat } from './sparse';

export type GpuWeightFormat = 'f32' | QuantFormat | SparseFormat;

export interface GpuWeight {
  readonly format: GpuWeightFormat;
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
}

/** Upload the row-wise stack of `parts` (all [rows_i, cols]) as one [sum rows_i, cols] matrix. */
type Upload = (device: GPUDevice, label: string, parts: readonly Tensor[]) => GpuWeight;

const asF32: Upload = (device, label, parts) => {
  const shape = [parts.reduce((s, t) => s + t.shape[0], 0), parts[0].shape[1]];
  // A lone f32 tensor goes up as stored; anything else is decoded (and stacked) on the CPU first.
  if (parts.length === 1 && parts[0].dtype === 'f32') return { format: 'f32', shape, buffer: uploadBuffer(device, label, parts[0].data) };
  const values = new Float32Array(shape[0] * shape[1]);
  let at = 0;
  for (const t of parts) {
    const v = toFloat32(t);
    values.set(v, at);
    at += v.length;
  }
  return { format: 'f32', shape, buffer: uploadBuffer(device, label, values) };
};

/**
 * Bytes of the GPU buffer for `bytes` of raw blocks: rounded up to whole words (buffers are), plus one
 * spare word, because the kernels read a field that may straddle two words as both words.
 */
export const rawBufferBytes = (bytes: number) => Math.ceil(bytes / 4) * 4 + 4;

/** The blocks as stored, parts concatenated: each row is whole blocks, so stacking rows is stacking bytes. */
const asRaw: Upload = (device, label, parts) => {
  const shape = [parts.reduce((s, t) => s + t.shape[0], 0), parts[0].shape[1]];
  // A row that ends inside a block (legal in the format table, never written by our passes or llama.cpp)
  // has no raw kernel; decode it instead.
  if (shape[1] % DTYPES[parts[0].dtype].blockSize !== 0) return asF32(device, label, parts);
  const raw = new Uint8Array(rawBufferBytes(parts.reduce((s, t) => s + t.data.byteLength, 0)));
  let at = 0;
  for (const t of parts) {
    raw.set(t.data, at);
    at += t.data.byteLength;
  }
  return { format: parts[0].dtype as QuantFormat, shape, buffer: uploadBuffer(device, label, raw) };
};

const isQuantFormat = (id: string): id is QuantFormat => id in QUANT_MATMUL;

const UPLOAD = Object.fromEntries(
  Object.keys(DTYPES).map((id) => [id, isQuantFormat(id) ? asRaw : asF32]),
) as Record<DTypeId, Upload>;

/**
 * A matrix that a matmul kernel reads, in the GPU format its dtype maps to. Several parts with the
 * same input width (q|k|v, gate|up) are stacked by rows so one matmul computes all their outputs.
 */
export function uploadMatrix(device: GPUDevice, label: string, parts: readonly Tensor[]): GpuWeight {
  const cols = parts[0].shape[1];
  for (const t of parts) {
    if (t.shape.length !== 2 || t.shape[1] !== cols) throw new Error(`${label}: cannot stack ${t.name} [${t.shape}] on width ${cols}`);
  }
  // Parts stored in different formats (a mixed-precision q|k|v) meet in f32: one matmul reads one format,
  // and the CPU oracle decodes to f32 too, so results are unchanged; only that group's memory grows.
  const dtype = parts.every((t) => t.dtype === parts[0].dtype) ? parts[0].dtype : 'f32';
  // an f32/f16 matrix that is exactly 2:4 or 4:8 (a pruned model) goes up packed, losslessly (sparse.ts)
  return uploadSparse(device, label, parts) ?? UPLOAD[dtype](device, label, parts);
}

/**
 * Norm weights, biases and the embedding table: always plain f32 (small, or gathered by row).
 * A number among `parts` stands for that many zeros (a missing bias beside present ones).
 */
export function uploadVector(device: GPUDevice, label: string, parts: readonly (Tensor | number)[]): GPUBuffer {
  const arrays = parts.map((p) => (typeof p === 'number' ? new Float32Array(p) : toFloat32(p)));
  if (arrays.length === 1) return uploadBuffer(device, label, arrays[0]);
  const values = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    values.set(a, at);
    at += a.length;
  }
  return uploadBuffer(device, label, values);
}

export interface MatmulKernels {
  /** Many rows (prefill). */
  readonly batch: typeof matmulF32;
  /** One row (decode). */
  readonly single: typeof matmulF32;
  /** One row when inDim % 4 == 0 (16-byte loads), where a format has such a kernel. */
  readonly singleVec4?: typeof matmulF32;
}

/**
 * The kernels computing y = x W^T with W in each GPU format, per adapter class: GPUs get the tiled
 * and cooperative forms, CPU adapters (SwiftShader) the barrier-free ones.
 */
export const MATMUL: Record<GpuWeightFormat, Record<AdapterClass, MatmulKernels>> = {
  f32: {
    gpu: { batch: matmulF32, single: matvecF32, singleVec4: matvecF32Vec4 },
    cpu: { batch: matmulF32Blocked, single: matvecF32Serial },
  },
  ...(Object.fromEntries(Object.entries(QUANT_MATMUL).map(([format, k]) => [format, {
    gpu: { batch: k.matmul, single: k.matvec },
    cpu: { batch: k.matmulBlocked, single: k.matvecSerial },
  }])) as Record<QuantFormat, Record<AdapterClass, MatmulKernels>>),
  ...(SPARSE_MATMUL as Record<SparseFormat, Record<AdapterClass, MatmulKernels>>),
};

/** Every kernel that reads weights in these formats on this kernel family (what a runtime must compile). */
export function matmulKernelsFor(formats: Iterable<GpuWeightFormat>, kernels: AdapterClass): MatmulKernels['batch'][] {
  const all = [...new Set(formats)].flatMap((f) => {
    const k = MATMUL[f][kernels];
    return k.singleVec4 ? [k.batch, k.single, k.singleVec4] : [k.batch, k.single];
  });
  return [...new Set(all)];
}
