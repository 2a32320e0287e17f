// Every storage format a tensor can have, described once (llama.cpp's type-traits table): floats,
// llama.cpp's block formats, and our blockwise integer family. The rest of the code asks this table for
// sizes, decoders and encoders; nothing else switches on a dtype.
import { bf16, f16, f32 } from './dtypes/float';
import { q4_0, q4_1, q5_0, q8_0 } from './dtypes/ggml';
import { INT_DTYPES, type IntDTypeId } from './dtypes/intn';
import type { DTypeTraits } from './dtypes/traits';

export type { DTypeTraits } from './dtypes/traits';
export type DTypeId = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | IntDTypeId;

export const DTYPES: Record<DTypeId, DTypeTraits> = { f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, ...INT_DTYPES };

export const isDType = (id: string): id is DTypeId => id in DTYPES;

/** Bits of storage per weight, scales and offsets included. */
export const bitsPerWeight = (id: DTypeId) => (DTYPES[id].blockBytes * 8) / DTYPES[id].blockSize;

export function byteSize(dtype: DTypeId, count: number): number {
  const t = DTYPES[dtype];
  if (count % t.blockSize !== 0) throw new Error(`${count} weights is not a whole number of ${dtype} blocks (${t.blockSize})`);
  return (count / t.blockSize) * t.blockBytes;
}

export function dtypeFromGgml(ggmlType: number): DTypeTraits | undefined {
  return Object.values(DTYPES).find((t) => t.ggmlType === ggmlType);
}

export function dtypeFromSafetensors(name: string): DTypeTraits | undefined {
  return Object.values(DTYPES).find((t) => t.safetensors === name);
}

/** Encode f32 values into a fresh buffer of the given dtype. */
export function encode(dtype: DTypeId, values: Float32Array): Uint8Array {
  const out = new Uint8Array(byteSize(dtype, values.length));
  DTYPES[dtype].encode(values, out, values.length);
  return out;
}
