// llama.cpp's block formats, bit-exact with ggml-quants.c (block layouts and the *_ref quantizers).
import { f16ToF32, f32ToF16 } from '../half';
import { roundAway, view, type DTypeTraits } from './traits';

const fr = Math.fround;

/** Largest-magnitude value of a block, with its sign (the q4_0/q5_0 quantizers scale by it). */
function signedMax(src: Float32Array, o: number, n: number): number {
  let amax = 0, max = 0;
  for (let j = 0; j < n; j++) {
    const x = src[o + j];
    if (Math.abs(x) > amax) { amax = Math.abs(x); max = x; }
  }
  return max;
}

// block_q8_0 { ggml_half d; int8_t qs[32]; }  x = d * q
export const q8_0: DTypeTraits = {
  id: 'q8_0', summary: 'llama.cpp Q8_0: 32 int8 + f16 scale', blockSize: 32, blockBytes: 34, bits: 8, symmetric: true, ggmlType: 8,
  decode(src, dst, n) {
    const v = view(src);
    for (let b = 0; b < n / 32; b++) {
      const d = f16ToF32(v.getUint16(b * 34, true));
      for (let j = 0; j < 32; j++) dst[b * 32 + j] = d * v.getInt8(b * 34 + 2 + j);
    }
  },
  // quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d)
  encode(src, dst, n) {
    const v = view(dst);
    for (let b = 0; b < n / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[b * 32 + j]));
      const d = fr(amax / 127);
      const id = d ? fr(1 / d) : 0;
      v.setUint16(b * 34, f32ToF16(d), true);
      for (let j = 0; j < 32; j++) v.setInt8(b * 34 + 2 + j, roundAway(fr(src[b * 32 + j] * id)));
    }
  },
};

// block_q4_0 { ggml_half d; uint8_t qs[16]; }  low nibbles hold weights 0..15, high nibbles 16..31; x = d * (q - 8)
export const q4_0: DTypeTraits = {
  id: 'q4_0', summary: 'llama.cpp Q4_0: 32 x 4-bit + f16 scale', blockSize: 32, blockBytes: 18, bits: 4, symmetric: true, ggmlType: 2,
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
  // quantize_row_q4_0_ref: d = (signed max-magnitude value) / -8, q = min(15, trunc(x / d + 8.5))
  encode(src, dst, n) {
    const v = view(dst);
    for (let b = 0; b < n / 32; b++) {
      const d = fr(signedMax(src, b * 32, 32) / -8);
      const id = d ? fr(1 / d) : 0;
      v.setUint16(b * 18, f32ToF16(d), true);
      const q = (x: number) => Math.min(15, Math.trunc(fr(fr(x * id) + 8.5)));
      for (let j = 0; j < 16; j++) dst[b * 18 + 2 + j] = q(src[b * 32 + j]) | (q(src[b * 32 + j + 16]) << 4);
    }
  },
};

// block_q4_1 { ggml_half d; ggml_half m; uint8_t qs[16]; }  x = d * q + m
export const q4_1: DTypeTraits = {
  id: 'q4_1', summary: 'llama.cpp Q4_1: 32 x 4-bit + f16 scale and min', blockSize: 32, blockBytes: 20, bits: 4, symmetric: false, ggmlType: 3,
  decode(src, dst, n) {
    const v = view(src);
    for (let b = 0; b < n / 32; b++) {
      const o = b * 20;
      const d = f16ToF32(v.getUint16(o, true)), m = f16ToF32(v.getUint16(o + 2, true));
      for (let j = 0; j < 16; j++) {
        const q = src[o + 4 + j];
        dst[b * 32 + j] = (q & 0x0f) * d + m;
        dst[b * 32 + j + 16] = (q >> 4) * d + m;
      }
    }
  },
  // quantize_row_q4_1_ref: d = (max - min) / 15, q = min(15, trunc((x - min) / d + 0.5))
  encode(src, dst, n) {
    const v = view(dst);
    for (let b = 0; b < n / 32; b++) {
      let min = Infinity, max = -Infinity;
      for (let j = 0; j < 32; j++) { min = Math.min(min, src[b * 32 + j]); max = Math.max(max, src[b * 32 + j]); }
      const d = fr((max - min) / 15);
      const id = d ? fr(1 / d) : 0;
      v.setUint16(b * 20, f32ToF16(d), true);
      v.setUint16(b * 20 + 2, f32ToF16(min), true);
      const q = (x: number) => Math.min(15, Math.trunc(fr(fr(fr(x - min) * id) + 0.5)));
      for (let j = 0; j < 16; j++) dst[b * 20 + 4 + j] = q(src[b * 32 + j]) | (q(src[b * 32 + j + 16]) << 4);
    }
  },
};

// block_q5_0 { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; }  5th bits in qh (bit j for weight j); x = d * (q - 16)
export const q5_0: DTypeTraits = {
  id: 'q5_0', summary: 'llama.cpp Q5_0: 32 x 5-bit + f16 scale', blockSize: 32, blockBytes: 22, bits: 5, symmetric: true, ggmlType: 6,
  decode(src, dst, n) {
    const v = view(src);
    for (let b = 0; b < n / 32; b++) {
      const o = b * 22;
      const d = f16ToF32(v.getUint16(o, true));
      const qh = v.getUint32(o + 2, true);
      for (let j = 0; j < 16; j++) {
        const lo = (src[o + 6 + j] & 0x0f) | (((qh >>> j) & 1) << 4);
        const hi = (src[o + 6 + j] >> 4) | (((qh >>> (j + 16)) & 1) << 4);
        dst[b * 32 + j] = d * (lo - 16);
        dst[b * 32 + j + 16] = d * (hi - 16);
      }
    }
  },
  // quantize_row_q5_0_ref: d = (signed max-magnitude value) / -16, q = min(31, trunc(x / d + 16.5))
  encode(src, dst, n) {
    const v = view(dst);
    for (let b = 0; b < n / 32; b++) {
      const o = b * 22;
      const d = fr(signedMax(src, b * 32, 32) / -16);
      const id = d ? fr(1 / d) : 0;
      v.setUint16(o, f32ToF16(d), true);
      const q = (x: number) => Math.min(31, Math.trunc(fr(fr(x * id) + 16.5)));
      let qh = 0;
      for (let j = 0; j < 16; j++) {
        const lo = q(src[b * 32 + j]), hi = q(src[b * 32 + j + 16]);
        dst[o + 6 + j] = (lo & 0x0f) | ((hi & 0x0f) << 4);
        qh |= ((lo >> 4) << j) | ((hi >> 4) << (j + 16));
      }
      v.setUint32(o + 2, qh >>> 0, true);
    }
  },
};
