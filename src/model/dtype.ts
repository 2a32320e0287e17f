// Every storage format a tensor can have, described once (llama.cpp's type-traits table).
// The rest of the code asks this table for sizes and decoders; nothing else switches on a dtype.
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';

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
  /** Encode `count` weights into `dst` (byteSize bytes), bit-exact with llama.cpp's reference quantizer. */
  encode(src: Float32Array, dst: Uint8Array, count: number): void;
}

export type DTypeId = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0';

/** C's roundf: halves away from zero (Math.round sends -2.5 to -2). */
const roundAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export const DTYPES: Record<DTypeId, DTypeTraits> = {
  f32: {
    id: 'f32', blockSize: 1, blockBytes: 4, ggmlType: 0, safetensors: 'F32',
    decode(src, dst, n) {
      const v = view(src);
      for (let i = 0; i < n; i++) dst[i] = v.getFloat32(i * 4, true);
    },
    encode(src, dst, n) {
      const v = view(dst);
      for (let i = 0; i < n; i++) v.setFloat32(i * 4, src[i], true);
    },
  },
  f16: {
    id: 'f16', blockSize: 1, blockBytes: 2, ggmlType: 1, safetensors: 'F16',
    decode(src, dst, n) {
      const v = view(src);
      for (let i = 0; i < n; i++) dst[i] = f16ToF32(v.getUint16(i * 2, true));
    },
    encode(src, dst, n) {
      const v = view(dst);
      for (let i = 0; i < n; i++) v.setUint16(i * 2, f32ToF16(src[i]), true);
    },
  },
  bf16: {
    id: 'bf16', blockSize: 1, blockBytes: 2, ggmlType: 30, safetensors: 'BF16',
    decode(src, dst, n) {
      const v = view(src);
      for (let i = 0; i < n; i++) dst[i] = bf16ToF32(v.getUint16(i * 2, true));
    },
    encode(src, dst, n) {
      const v = view(dst);
      for (let i = 0; i < n; i++) v.setUint16(i * 2, f32ToBf16(src[i]), true);
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
    // quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d)
    encode(src, dst, n) {
      const v = view(dst);
      for (let b = 0; b < n / 32; b++) {
        let amax = 0;
        for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[b * 32 + j]));
        const d = Math.fround(amax / 127);
        const id = d ? Math.fround(1 / d) : 0;
        v.setUint16(b * 34, f32ToF16(d), true);
        for (let j = 0; j < 32; j++) v.setInt8(b * 34 + 2 + j, roundAway(Math.fround(src[b * 32 + j] * id)));
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
    // quantize_row_q4_0_ref: d = (signed value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5))
    encode(src, dst, n) {
      const v = view(dst);
      for (let b = 0; b < n / 32; b++) {
        let amax = 0, max = 0;
        for (let j = 0; j < 32; j++) {
          const x = src[b * 32 + j];
          if (Math.abs(x) > amax) { amax = Math.abs(x); max = x; }
        }
        const d = Math.fround(max / -8);
        const id = d ? Math.fround(1 / d) : 0;
        v.setUint16(b * 18, f32ToF16(d), true);
        const q = (x: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(x * id) + 8.5)));
        for (let j = 0; j < 16; j++) dst[b * 18 + 2 + j] = q(src[b * 32 + j]) | (q(src[b * 32 + j + 16]) << 4);
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

/** Encode f32 values into a fresh buffer of the given dtype. */
export function encode(dtype: DTypeId, values: Float32Array): Uint8Array {
  const out = new Uint8Array(byteSize(dtype, values.length));
  DTYPES[dtype].encode(values, out, values.length);
  return out;
}
