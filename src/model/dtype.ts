// Every storage format a tensor can have, described once (llama.cpp's type-traits table).
// The rest of the code asks this table for sizes and decoders; nothing else switches on a dtype.
import { bf16ToF32, f16ToF32 } from './half';

export interface DTypeTraits {
  readonly id: DTypeId;
  /** Weights per block; 1 for plain element types. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  /** ggml_type id in GGUF files, when llama.cpp has this format. */
  readonly ggmlType?: number;
  /** Safetensors dtype string, when the format has one. */
  readonly safetensors?: string;
  /** Decode `count` weights starting at byte 0 of `src` into `dst` (count is a multiple of blockSize). */
  decode(src: Uint8Array, dst: Float32Array, count: number): void;
}

export type DTypeId = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0';

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export const DTYPES: Record<DTypeId, DTypeTraits> = {
  f32: {
    id: 'f32', blockSize: 1, blockBytes: 4, ggmlType: 0, safetensors: 'F32',
    decode(src, dst, n) {
      const v = view(src);
      for (let i = 0; i < n; i++) dst[i] = v.getFloat32(i * 4, true);
    },
  },
  f16: {
    id: 'f16', blockSize: 1, blockBytes: 2, ggmlType: 1, safetensors: 'F16',
    decode(src, dst, n) {
      const v = view(src);
      for (let i = 0; i < n; i++) dst[i] = f16ToF32(v.getUint16(i * 2, true));
    },
  },
  bf16: {
    id: 'bf16', blockSize: 1, blockBytes: 2, ggmlType: 30, safetensors: 'BF16',
    decode(src, dst, n) {
      const v = view(src);
      for (let i = 0; i < n; i++) dst[i] = bf16ToF32(v.getUint16(i * 2, true));
    },
  },
  // block_q8_0 { ggml_half d; int8_t qs[32]; }  x = d * q
  q8_0: {
    id: 'q8_0', blockSize: 32, blockBytes: 34, ggmlType: 8,
    decode(src, dst, n) {
      const v = view(src);
      for (let b = 0; b < n / 32; b++) {
        const o = b * 34;
        const d = f16ToF32(v.getUint16(o, true));
        for (let j = 0; j < 32; j++) dst[b * 32 + j] = d * v.getInt8(o + 2 + j);
      }
    },
  },
  // block_q4_0 { ggml_half d; uint8_t qs[16]; }  low nibbles hold weights 0..15, high nibbles 16..31; x = d * (q - 8)
  q4_0: {
    id: 'q4_0', blockSize: 32, blockBytes: 18, ggmlType: 2,
    decode(src, dst, n) {
      const v = view(src);
      for (let b = 0; b < n / 32; b++) {
        const o = b * 18;
        const d = f16ToF32(v.getUint16(o, true));
        for (let j = 0; j < 16; j++) {
          const q = src[o + 2 + j];
          dst[b * 32 + j] = d * ((q & 0x0f) - 8);
          dst[b * 32 + j + 16] = d * ((q >> 4) - 8);
        }
      }
    },
  },
};

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
