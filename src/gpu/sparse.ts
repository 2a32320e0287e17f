// Packed N:M weights on the GPU (model/dtypes/sparse-nm.ts): their formats, the sparse matmul kernels that
// read them (sparse-nm-matvec.wgsl: only the kept weights are read and multiplied), and the upload that packs
// a matrix which is exactly N:M. Packing is lossless (values keep their stored f32 or f16), so a pruned model
// computes the same on the GPU with 17/32 (2:4, f32) of the weight bytes; weights.ts tries it for every
// f32 and f16 matrix.
import { isNmSparse, NM_PATTERNS, nmBytes, packNm, type NmLayout, type NmPattern, type NmValueType } from '../model/dtypes/sparse-nm';
import { toFloat32, type Tensor } from '../model/tensor';
import { uploadBuffer } from './buffers';
import { defineKernel, split } from './kernel';
import matmulIoWgsl from './kernels/matmul/io.wgsl?raw';
import sparseNmMatvecWgsl from './kernels/sparse-nm-matvec.wgsl?raw';

export type SparseFormat = `nm${2 | 4}_${4 | 8}_${NmValueType}`;

const FORMATS = Object.fromEntries(
  (Object.keys(NM_PATTERNS) as NmPattern[]).flatMap((pattern) => (['f32', 'f16'] as const).map((valueType) => {
    const { n, m } = NM_PATTERNS[pattern];
    return [`nm${n}_${m}_${valueType}`, { n, m, valueType }];
  })),
) as Record<SparseFormat, { n: number; m: number; valueType: NmValueType }>;

export const sparseFormat = (n: number, m: number, valueType: NmValueType) => `nm${n}_${m}_${valueType}` as SparseFormat;

const matmulParams = { rows: 'u32', inDim: 'u32', outDim: 'u32', flags: 'u32' } as const;
const matmulBuffers = { x: 'read', w: 'read', bias: 'read', out: 'read_write' } as const;

/** TPR invocations per output, RPW outputs per workgroup, RB rows of x per workgroup (grid z). */
function sparseKernel(format: SparseFormat, TPR: number, RPW: number, RB: number) {
  const { n, m, valueType } = FORMATS[format];
  return defineKernel({
    label: `sparse_${RB > 1 ? 'matmul' : 'matvec'}_${format}${TPR === 1 ? '_serial' : ''}`, pieces: [matmulIoWgsl, sparseNmMatvecWgsl],
    constants: { N: n, M: m, IB: Math.log2(m), F16: valueType === 'f16' ? 1 : 0, TPR, RPW, RB },
    params: matmulParams, buffers: matmulBuffers,
    grid: (p) => [...split(Math.ceil(p.outDim / RPW)), Math.ceil(p.rows / RB)],
  });
}
type SparseKernel = ReturnType<typeof sparseKernel>;

/**
 * Per format and kernel family: 64 invocations per output (GPUs) or one (CPU adapters); one row of x per
 * workgroup for decode (`single`), 8 for batches, so each weight is read once per 8 rows.
 */
export const SPARSE_MATMUL = Object.fromEntries((Object.keys(FORMATS) as SparseFormat[]).map((f) => [f, {
  gpu: { batch: sparseKernel(f, 64, 4, 8), single: sparseKernel(f, 64, 4, 1) },
  cpu: { batch: sparseKernel(f, 1, 64, 8), single: sparseKernel(f, 1, 64, 1) },
}])) as Record<SparseFormat, Record<'gpu' | 'cpu', { batch: SparseKernel; single: SparseKernel }>>;

/**
 * The row-stacked `parts` packed N:M when all are f32 (or all f16) and exactly 2:4 (tried first) or 4:8;
 * undefined otherwise, and then the caller uploads them dense.
 */
export function uploadSparse(device: GPUDevice, label: string, parts: readonly Tensor[]): { format: SparseFormat; buffer: GPUBuffer; shape: number[]; bytes: number } | undefined {
  const valueType = parts[0].dtype;
  if ((valueType !== 'f32' && valueType !== 'f16') || parts.some((t) => t.dtype !== valueType)) return undefined;
  const cols = parts[0].shape[1], rows = parts.reduce((s, t) => s + t.shape[0], 0);
  const probes = parts.map(zerosOf);
  for (const pattern of Object.keys(NM_PATTERNS) as NmPattern[]) {
    const { n, m } = NM_PATTERNS[pattern];
    if (!probes.every((v) => isNmSparse(v, cols, n, m))) continue;
    const values = new Float32Array(rows * cols);
    parts.reduce((at, t) => (values.set(toFloat32(t), at), at + t.shape[0] * cols), 0);
    const layout: NmLayout = { n, m, valueType, rows, cols };
    const packed = packNm(values, layout);
    return { format: sparseFormat(n, m, valueType), buffer: uploadBuffer(device, label, packed.words), shape: [rows, cols], bytes: nmBytes(layout) };
  }
  return undefined;
}

/**
 * An array that is zero exactly where the f32/f16 tensor holds +0, without decoding or copying when aligned
 * (a dense matrix fails the N:M test within its first groups, so a dense model pays almost nothing here).
 * An f16 -0 counts as nonzero: such a matrix is merely not packed.
 */
function zerosOf(t: Tensor): ArrayLike<number> {
  const { buffer, byteOffset, byteLength } = t.data;
  if (t.dtype === 'f32' && byteOffset % 4 === 0) return new Float32Array(buffer, byteOffset, byteLength / 4);
  if (t.dtype === 'f16' && byteOffset % 2 === 0) return new Uint16Array(buffer, byteOffset, byteLength / 2);
  return toFloat32(t);
}
