import { expect, it, describe } from 'vitest';
import { DTYPES, bitsPerWeight, byteSize, encode, type DTypeId } from '../../src/model/dtype';
import { INT_BITS, INT_GROUPS, intId } from '../../src/model/dtypes/intn';
import { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from '../../src/model/half';

const decode = (dtype: DTypeId, bytes: Uint8Array, n: number) => {
  const out = new Float32Array(n);
  DTYPES[dtype].decode(bytes, out, n);
  return out;
};

describe('half precision', () => {
  it('every f16 bit pattern survives f16 -> f32 -> f16', () => {
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
      if (exp === 31 && frac) continue; // NaN payloads are not preserved, only NaN-ness
      expect(f32ToF16(f16ToF32(h))).toBe(h);
    }
  });
  it('rounds to nearest even and saturates to infinity', () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (1.0)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (1 + 2^-9)
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(bf16ToF32(f32ToBf16(3.140625))).toBe(3.140625);
  });
});

describe("ggml block formats, as llama.cpp's ggml-quants.c defines them", () => {
  it('Q8_0: 34-byte blocks, x = d * q', () => {
    const block = new Uint8Array(34);
    new DataView(block.buffer).setUint16(0, 0x3800, true); // d = 0.5
    for (let j = 0; j < 32; j++) new DataView(block.buffer).setInt8(2 + j, j - 16);
    expect(Array.from(decode('q8_0', block, 32))).toEqual(Array.from({ length: 32 }, (_, j) => 0.5 * (j - 16)));
    expect(byteSize('q8_0', 64)).toBe(68);
  });

  it('Q4_0: 18-byte blocks, low nibbles are weights 0..15, high nibbles 16..31, x = d * (q - 8)', () => {
    const block = new Uint8Array(18);
    new DataView(block.buffer).setUint16(0, 0xb400, true); // d = -0.25
    for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4);
    const want = [...Array.from({ length: 16 }, (_, j) => -0.25 * (j - 8)), ...Array.from({ length: 16 }, (_, j) => -0.25 * (7 - j))];
    expect(Array.from(decode('q4_0', block, 32))).toEqual(want);
  });

  it('Q8_0 encode: d = amax/127 in f16, q = roundf(x/d) (halves away from zero)', () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => (j - 15.5) / 10);
    const bytes = encode('q8_0', x);
    const v = new DataView(bytes.buffer);
    expect(v.getUint16(0, true)).toBe(f32ToF16(Math.fround(1.55 / 127)));
    expect(v.getInt8(2)).toBe(-127);
    expect(v.getInt8(2 + 31)).toBe(127);
    const back = decode('q8_0', bytes, 32);
    const d = f16ToF32(v.getUint16(0, true));
    for (let j = 0; j < 32; j++) expect(Math.abs(back[j] - x[j])).toBeLessThanOrEqual(d / 2 + 1e-3);
  });

  it('Q4_0 encode: d = (signed max-magnitude value) / -8, q = min(15, trunc(x/d + 8.5))', () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => ((j % 16) - 8) / 10); // -0.8 .. 0.7, largest |x| is -0.8
    const bytes = encode('q4_0', x);
    expect(f16ToF32(new DataView(bytes.buffer).getUint16(0, true))).toBeCloseTo(0.1, 3);
    expect(bytes[2] & 0x0f).toBe(0); // -0.8 -> q 0
    const back = decode('q4_0', bytes, 32);
    for (let j = 0; j < 32; j++) expect(back[j]).toBeCloseTo(x[j], 3);
  });

  it('all-zero blocks encode to zeros without dividing by zero', () => {
    for (const t of ['q8_0', 'q4_0'] as const) expect(Array.from(decode(t, encode(t, new Float32Array(32)), 32)).every((v) => v === 0)).toBe(true);
  });

  it('rejects counts that are not whole blocks', () => {
    expect(() => byteSize('q4_0', 33)).toThrow(/not a whole number of q4_0 blocks/);
  });

  it('Q4_1: 20-byte blocks, x = d * q + m', () => {
    const block = new Uint8Array(20);
    const v = new DataView(block.buffer);
    v.setUint16(0, 0x3400, true); // d = 0.25
    v.setUint16(2, 0xbc00, true); // m = -1
    for (let j = 0; j < 16; j++) block[4 + j] = j | ((15 - j) << 4);
    const want = [...Array.from({ length: 16 }, (_, j) => 0.25 * j - 1), ...Array.from({ length: 16 }, (_, j) => 0.25 * (15 - j) - 1)];
    expect(Array.from(decode('q4_1', block, 32))).toEqual(want);
  });

  it('Q5_0: 22-byte blocks, the 5th bit of weight j is bit j of qh, x = d * (q - 16)', () => {
    const block = new Uint8Array(22);
    const v = new DataView(block.buffer);
    v.setUint16(0, 0x3c00, true); // d = 1
    v.setUint32(2, 0xffff0000, true); // weights 16..31 have the high bit
    for (let j = 0; j < 16; j++) block[6 + j] = j | (j << 4);
    const want = [...Array.from({ length: 16 }, (_, j) => j - 16), ...Array.from({ length: 16 }, (_, j) => j)];
    expect(Array.from(decode('q5_0', block, 32))).toEqual(want);
  });

  it('Q4_1 and Q5_0 encoders round-trip within half a step', () => {
    const x = Float32Array.from({ length: 64 }, (_, j) => Math.sin(j * 1.7) * 3 + 0.5);
    for (const [t, levels] of [['q4_1', 15], ['q5_0', 31]] as const) {
      const back = decode(t, encode(t, x), 64);
      for (let b = 0; b < 2; b++) {
        const blk = x.subarray(b * 32, b * 32 + 32);
        const step = (Math.max(...blk) - Math.min(...blk)) / levels;
        for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j] - blk[j])).toBeLessThanOrEqual(step * (t === 'q5_0' ? 1 : 0.5) + 1e-2);
      }
    }
  });
});

describe('blockwise integer family int{2,3,4,8}_g{16..128}', () => {
  it('has every combination, with bytes = 4 + group*bits/8 per block', () => {
    for (const b of INT_BITS) for (const g of INT_GROUPS) {
      const t = DTYPES[intId(b, g)];
      expect(t.blockBytes).toBe(4 + (g * b) / 8);
      expect(bitsPerWeight(t.id)).toBeCloseTo(b + 32 / g, 10);
    }
    expect(bitsPerWeight('q4_0')).toBe(4.5);
    expect(bitsPerWeight('int4_g128')).toBe(4.25);
  });

  it('RTN round-trips within half a quantization step, bit packing included (3-bit crosses bytes)', () => {
    const x = Float32Array.from({ length: 256 }, (_, j) => Math.sin(j * 0.37) * (1 + (j % 7)));
    for (const b of INT_BITS) for (const g of INT_GROUPS) {
      const id = intId(b, g);
      const back = decode(id, encode(id, x), x.length);
      for (let blk = 0; blk < x.length / g; blk++) {
        const s = x.subarray(blk * g, (blk + 1) * g);
        const step = (Math.max(...s) - Math.min(...s)) / ((1 << b) - 1);
        for (let j = 0; j < g; j++) expect(Math.abs(back[blk * g + j] - s[j])).toBeLessThanOrEqual(step / 2 + 0.01 * step + 2e-3);
      }
    }
  });

  it('more bits, less error', () => {
    const x = Float32Array.from({ length: 1024 }, (_, j) => Math.sin(j * 0.91) + Math.cos(j * 0.13));
    const err = (id: DTypeId) => { const y = decode(id, encode(id, x), 1024); return y.reduce((s, v, i) => s + (v - x[i]) ** 2, 0); };
    expect(err('int2_g32')).toBeGreaterThan(err('int3_g32'));
    expect(err('int3_g32')).toBeGreaterThan(err('int4_g32'));
    expect(err('int4_g32')).toBeGreaterThan(err('int8_g32'));
    expect(err('int4_g128')).toBeGreaterThan(err('int4_g16'));
  });
});
