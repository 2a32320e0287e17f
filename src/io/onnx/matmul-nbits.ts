// Our int family (per block: f16 scale, f16 offset, LSB-first levels; x = scale * q + offset) as the inputs
// of com.microsoft MatMulNBits: B uint8 [N, blocks, blockSize * bits / 8] holds the same packed levels
// (first element in the low bits), scales float [N * blocks], and zero points zp = -offset / scale, so ONNX
// Runtime's (q - zp) * scale is our scale * q + offset. No level is re-rounded.
// Zero points go as packed uint4 when every block's is an integer in [0, 15] (up to the f16 rounding of the
// stored offset): onnxruntime-web's WebGPU kernel takes only those. Otherwise (HQQ's float zero points, RTN's
// min/max grid) they go as float, which ONNX Runtime's CPU/wasm kernel runs and its WebGPU provider hands to
// the CPU. `quantizeMatMulNBits` makes weights of the first kind.
import { DTYPES } from '../../model/dtype';
import { intId, packIntBlock, parseIntId, type IntGroup } from '../../model/dtypes/intn';
import { view } from '../../model/dtypes/traits';
import { f16ToF32, f32ToF16 } from '../../model/half';
import { makeTensor, toFloat32, type Tensor } from '../../model/tensor';

export interface MatMulNBitsWeight {
  /** Output features (rows of the [out, in] weight). */
  readonly n: number;
  /** Input features. */
  readonly k: number;
  readonly bits: number;
  readonly blockSize: number;
  /** uint8 [n, k / blockSize, blockSize * bits / 8] */
  readonly b: Uint8Array;
  readonly scales: Float32Array;
  /**
   * Float zero points [N * blocks], or packed: uint4 two per byte, each row padded to a byte ([N * ceil(blocks / 2)]);
   * uint8 one per block for 8 bits.
   */
  readonly zeroPoints: Float32Array | Uint8Array;
}

/** How far (in levels) a zero point may sit from an integer and still count as one: the f16 offset's rounding. */
const ZP_SLACK = 0.02;

/** Bit widths ONNX Runtime's MatMulNBits runs on both its wasm (CPU) and WebGPU kernels. */
export const MATMUL_NBITS_BITS = [4] as const;

/** Whether `t` can feed MatMulNBits without dequantizing: a 2-D weight of our int family, 4-bit, rows of whole blocks. */
export function fitsMatMulNBits(t: Tensor): boolean {
  const int = parseIntId(t.dtype);
  return !!int && DTYPES[t.dtype].onnx === 'MatMulNBits' && (MATMUL_NBITS_BITS as readonly number[]).includes(int.bits)
    && t.shape.length === 2 && t.shape[1] % int.group === 0;
}

/** zeroPoints: 'auto' packs uint4 when every block allows it, else float; 'float' always float. */
export function toMatMulNBits(t: Tensor, zpFormat: 'auto' | 'float' = 'auto'): MatMulNBitsWeight {
  if (!fitsMatMulNBits(t)) throw new Error(`tensor ${t.name} (${t.dtype} [${t.shape}]) cannot feed MatMulNBits`);
  const { bits, group } = parseIntId(t.dtype)!;
  const [n, k] = t.shape;
  const blocks = (n * k) / group;
  const blob = (group * bits) / 8;
  const blockBytes = DTYPES[t.dtype].blockBytes;
  const b = new Uint8Array(blocks * blob);
  const scales = new Float32Array(blocks);
  const zeroPoints = new Float32Array(blocks);
  const v = view(t.data);
  for (let i = 0; i < blocks; i++) {
    const o = i * blockBytes;
    const scale = f16ToF32(v.getUint16(o, true));
    const offset = f16ToF32(v.getUint16(o + 2, true));
    if (scale !== 0) {
      b.set(t.data.subarray(o + 4, o + blockBytes), i * blob);
      scales[i] = scale;
      zeroPoints[i] = -offset / scale;
    } else {
      // every weight of the block is `offset`: levels 0, and a scale that carries the offset
      scales[i] = offset === 0 ? 1 : Math.abs(offset);
      zeroPoints[i] = -offset / scales[i];
    }
  }
  if (zpFormat === 'float' || bits !== 4) return { n, k, bits, blockSize: group, b, scales, zeroPoints };
  const perRow = k / group, rowBytes = Math.ceil(perRow / 2);
  const packed = new Uint8Array(n * rowBytes);
  for (let i = 0; i < blocks; i++) {
    const z = Math.round(zeroPoints[i]);
    if (!(Math.abs(zeroPoints[i] - z) <= ZP_SLACK && z >= 0 && z <= 15)) return { n, k, bits, blockSize: group, b, scales, zeroPoints };
    const row = Math.floor(i / perRow), j = i % perRow;
    packed[row * rowBytes + (j >> 1)] |= z << ((j & 1) * 4);
  }
  return { n, k, bits, blockSize: group, b, scales, zeroPoints: packed };
}

/**
 * `s` rounded up to 7 significant bits, so that zp * scale (zp < 16) is exact in f16: the stored offset is then
 * exactly -zp * scale and our dequantized weights equal ONNX Runtime's bit for bit. Rounding up keeps the
 * block's range on the grid; 7 bits cost at most 0.8% of the step. (Below f16's normal range, plain f16.)
 */
export function exactScale(s: number): number {
  if (!(s > 0)) return 0;
  const step = 2 ** (Math.floor(Math.log2(s)) - 6);
  const r = Math.ceil(s / step - 1e-9) * step;
  return r >= 2 ** -14 ? f16ToF32(f32ToF16(r)) : f16ToF32(f32ToF16(s));
}

/**
 * Round-to-nearest 4-bit with integer zero points, as ONNX Runtime's MatMul4BitsQuantizer does (each block's
 * range widened to include 0; scale = range / 15; zp = round(-min / scale)), stored in our int4 family with
 * offset = -zp * scale: a model whose MatMulNBits export runs on every onnxruntime-web provider and computes
 * exactly what our runtimes compute from it.
 */
export function quantizeMatMulNBits(t: Tensor, group: IntGroup = 32): Tensor {
  if (t.shape.length !== 2 || t.shape[1] % group !== 0) throw new Error(`tensor ${t.name} [${t.shape}]: rows are not whole blocks of ${group}`);
  const x = toFloat32(t);
  const id = intId(4, group);
  const blockBytes = DTYPES[id].blockBytes;
  const out = new Uint8Array((x.length / group) * blockBytes);
  const q = new Uint8Array(group);
  for (let bl = 0; bl < x.length / group; bl++) {
    let min = 0, max = 0;
    for (let j = 0; j < group; j++) { min = Math.min(min, x[bl * group + j]); max = Math.max(max, x[bl * group + j]); }
    const scale = exactScale((max - min) / 15);
    const zp = scale ? Math.max(0, Math.min(15, Math.round(-min / scale))) : 0;
    for (let j = 0; j < group; j++) q[j] = scale ? Math.max(0, Math.min(15, Math.round(x[bl * group + j] / scale) + zp)) : 0;
    packIntBlock(out, bl * blockBytes, 4, q, scale, -zp * scale);
  }
  return makeTensor(t.name, t.shape, id, out);
}

function zeroPoint(w: MatMulNBitsWeight, block: number): number {
  if (w.zeroPoints instanceof Float32Array || w.bits === 8) return w.zeroPoints[block]; // float, or one uint8 per block
  const perRow = w.k / w.blockSize, rowBytes = Math.ceil(perRow / 2);
  const row = Math.floor(block / perRow), j = block % perRow;
  return (w.zeroPoints[row * rowBytes + (j >> 1)] >> ((j & 1) * 4)) & 15;
}

/** The weight ONNX Runtime reconstructs, [n, k] row-major, (q - zp) * scale in f32: the oracle for the relayout. */
export function dequantMatMulNBits(w: MatMulNBitsWeight): Float32Array {
  const out = new Float32Array(w.n * w.k);
  const blob = (w.blockSize * w.bits) / 8;
  const mask = (1 << w.bits) - 1;
  for (let i = 0; i < out.length / w.blockSize; i++) {
    for (let j = 0; j < w.blockSize; j++) {
      const bit = j * w.bits;
      const q = (w.b[i * blob + (bit >> 3)] >> (bit & 7)) & mask;
      out[i * w.blockSize + j] = Math.fround(Math.fround(q - zeroPoint(w, i)) * w.scales[i]);
    }
  }
  return out;
}
