import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../half';
import { view, type DTypeTraits } from './traits';

export const f32: DTypeTraits = {
  id: 'f32', summary: 'IEEE float32', blockSize: 1, blockBytes: 4, bits: 32, symmetric: true, ggmlType: 0, safetensors: 'F32',
  decode(src, dst, n) {
    const v = view(src);
    for (let i = 0; i < n; i++) dst[i] = v.getFloat32(i * 4, true);
  },
  encode(src, dst, n) {
    const v = view(dst);
    for (let i = 0; i < n; i++) v.setFloat32(i * 4, src[i], true);
  },
};

export const f16: DTypeTraits = {
  id: 'f16', summary: 'IEEE float16', blockSize: 1, blockBytes: 2, bits: 16, symmetric: true, ggmlType: 1, safetensors: 'F16',
  decode(src, dst, n) {
    const v = view(src);
    for (let i = 0; i < n; i++) dst[i] = f16ToF32(v.getUint16(i * 2, true));
  },
  encode(src, dst, n) {
    const v = view(dst);
    for (let i = 0; i < n; i++) v.setUint16(i * 2, f32ToF16(src[i]), true);
  },
};

export const bf16: DTypeTraits = {
  id: 'bf16', summary: 'bfloat16', blockSize: 1, blockBytes: 2, bits: 16, symmetric: true, ggmlType: 30, safetensors: 'BF16',
  decode(src, dst, n) {
    const v = view(src);
    for (let i = 0; i < n; i++) dst[i] = bf16ToF32(v.getUint16(i * 2, true));
  },
  encode(src, dst, n) {
    const v = view(dst);
    for (let i = 0; i < n; i++) v.setUint16(i * 2, f32ToBf16(src[i]), true);
  },
};
