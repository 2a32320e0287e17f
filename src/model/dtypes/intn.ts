// Our blockwise integer family int{2,3,4,8}_g{16,32,64,128}: per block an f16 scale, an f16 offset, then the
// levels as an LSB-first bitstream: x = scale * q + offset, q in [0, 2^bits). The offset is a float so that
// HQQ's optimised zero point is kept exactly; MatMulNBits reads it as a float zero point (zp = -offset/scale).
import { f16ToF32, f32ToF16 } from '../half';
import { view, type DTypeTraits } from './traits';

export const INT_BITS = [2, 3, 4, 8] as const;
export const INT_GROUPS = [16, 32, 64, 128] as const;
export type IntBits = (typeof INT_BITS)[number];
export type IntGroup = (typeof INT_GROUPS)[number];
export type IntDTypeId = `int${IntBits}_g${IntGroup}`;

export const intId = (bits: IntBits, group: IntGroup): IntDTypeId => `int${bits}_g${group}`;

export function parseIntId(id: string): { bits: IntBits; group: IntGroup } | undefined {
  const m = /^int(\d)_g(\d+)$/.exec(id);
  if (!m) return undefined;
  const bits = Number(m[1]) as IntBits, group = Number(m[2]) as IntGroup;
  return INT_BITS.includes(bits) && INT_GROUPS.includes(group) ? { bits, group } : undefined;
}

/** Write one block: scale and offset (as f16) and `group` levels. Levels must already fit in `bits`. */
export function packIntBlock(dst: Uint8Array, offset: number, bits: number, levels: ArrayLike<number>, scale: number, zeroOffset: number) {
  const v = view(dst);
  v.setUint16(offset, f32ToF16(scale), true);
  v.setUint16(offset + 2, f32ToF16(zeroOffset), true);
  let acc = 0, nacc = 0, p = offset + 4;
  for (let j = 0; j < levels.length; j++) {
    acc |= levels[j] << nacc;
    nacc += bits;
    while (nacc >= 8) {
      dst[p++] = acc & 0xff;
      acc >>>= 8;
      nacc -= 8;
    }
  }
}

/** The f16-rounded scale and offset a block will actually store, so quantizers round against them. */
export function storedScaleOffset(scale: number, offset: number): [number, number] {
  return [f16ToF32(f32ToF16(scale)), f16ToF32(f32ToF16(offset))];
}

function makeInt(bits: IntBits, group: IntGroup): DTypeTraits {
  const levels = (1 << bits) - 1;
  const blockBytes = 4 + (group * bits) / 8;
  return {
    id: intId(bits, group),
    summary: `int${bits} asymmetric, group ${group}, f16 scale + f16 offset (${((blockBytes * 8) / group).toFixed(3)} bits/weight)`,
    blockSize: group, blockBytes, bits, symmetric: false, onnx: bits === 4 || bits === 8 || bits === 2 ? 'MatMulNBits' : undefined,
    decode(src, dst, n) {
      const v = view(src);
      for (let b = 0; b < n / group; b++) {
        const o = b * blockBytes;
        const scale = f16ToF32(v.getUint16(o, true)), off = f16ToF32(v.getUint16(o + 2, true));
        let acc = 0, nacc = 0, p = o + 4;
        for (let j = 0; j < group; j++) {
          while (nacc < bits) {
            acc |= src[p++] << nacc;
            nacc += 8;
          }
          dst[b * group + j] = scale * (acc & levels) + off;
          acc >>>= bits;
          nacc -= bits;
        }
      }
    },
    // round-to-nearest between the block's min and max (RTN); smarter methods pack their own levels
    encode(src, dst, n) {
      const q = new Uint8Array(group);
      for (let b = 0; b < n / group; b++) {
        let min = Infinity, max = -Infinity;
        for (let j = 0; j < group; j++) { min = Math.min(min, src[b * group + j]); max = Math.max(max, src[b * group + j]); }
        const [scale, off] = storedScaleOffset((max - min) / levels, min);
        for (let j = 0; j < group; j++) q[j] = scale ? Math.max(0, Math.min(levels, Math.round((src[b * group + j] - off) / scale))) : 0;
        packIntBlock(dst, b * blockBytes, bits, q, scale, off);
      }
    },
  };
}

export const INT_DTYPES = Object.fromEntries(
  INT_BITS.flatMap((b) => INT_GROUPS.map((g) => [intId(b, g), makeInt(b, g)])),
) as Record<IntDTypeId, DTypeTraits>;
