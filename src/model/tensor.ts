import { DTYPES, byteSize, type DTypeId } from './dtype';

/** A named weight in its stored format. Shapes are row-major, outermost first (HF/PyTorch order: [out, in]). */
export interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DTypeId;
  /** Exactly byteSize(dtype, numel(shape)) bytes. */
  readonly data: Uint8Array;
}

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function makeTensor(name: string, shape: readonly number[], dtype: DTypeId, data: Uint8Array): Tensor {
  const want = byteSize(dtype, numel(shape));
  if (data.byteLength !== want) {
    throw new Error(`tensor ${name}: ${data.byteLength} bytes for ${dtype}[${shape.join(',')}], expected ${want}`);
  }
  return { name, shape: [...shape], dtype, data };
}

export function f32Tensor(name: string, shape: readonly number[], values: Float32Array): Tensor {
  return makeTensor(name, shape, 'f32', new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Dequantize to a fresh Float32Array (the CPU oracle of every storage format). */
export function toFloat32(t: Tensor): Float32Array {
  const n = numel(t.shape);
  const out = new Float32Array(n);
  if (t.dtype === 'f32' && t.data.byteOffset % 4 === 0) {
    out.set(new Float32Array(t.data.buffer, t.data.byteOffset, n));
    return out;
  }
  DTYPES[t.dtype].decode(t.data, out, n);
  return out;
}
