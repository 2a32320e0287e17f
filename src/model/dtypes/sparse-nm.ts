// Packed N:M sparsity (2:4, 4:8), after NVIDIA's 2:4 format: of every M consecutive inputs of a row only the
// N kept values are stored, each with a log2(M)-bit index of its position in the group. Values are f32 or f16
// (the stored dtype of the dense tensor: packing is lossless). Not a DTYPES entry: it is a representation of
// a pruned matrix (the runtime packs an exactly N:M matrix on upload, weights.ts), not a quantization grid.
//
// Layout, one buffer of u32 words (so a GPU kernel binds it like any weight):
//   values:  rows x (cols / M) x N values, row-major; f32 one per word, f16 two per word (low half first)
//   indices: per row, the groups' N indices packed LSB-first, N * log2(M) bits per group, as many whole groups
//            per word as fit (2:4: 8 groups = 32 inputs per word; 4:8: 2 groups per word, 8 bits unused);
//            each row starts on a word.
// Bytes per weight, f32 values: 2:4 17/32 of dense, 4:8 18/32; f16 values: 2:4 9/16, 4:8 10/16 of dense f16.
import { f16ToF32, f32ToF16 } from '../half';

export const NM_PATTERNS = { '2:4': { n: 2, m: 4 }, '4:8': { n: 4, m: 8 } } as const;
export type NmPattern = keyof typeof NM_PATTERNS;
export type NmValueType = 'f32' | 'f16';

export interface NmLayout {
  readonly n: number;
  readonly m: number;
  readonly valueType: NmValueType;
  readonly rows: number;
  readonly cols: number;
}

export interface PackedNm extends NmLayout {
  readonly words: Uint32Array;
}

export const indexBits = (m: number) => Math.log2(m);
/** Whole groups whose indices share one word. */
export const groupsPerWord = (l: Pick<NmLayout, 'n' | 'm'>) => Math.floor(32 / (l.n * indexBits(l.m)));

export function nmWords(l: NmLayout): { values: number; indexPerRow: number; total: number } {
  const groups = l.cols / l.m;
  const values = (l.rows * groups * l.n) / (l.valueType === 'f16' ? 2 : 1);
  const indexPerRow = Math.ceil(groups / groupsPerWord(l));
  return { values, indexPerRow, total: values + l.rows * indexPerRow };
}

/** Bytes of the packed matrix (values and indices). */
export const nmBytes = (l: NmLayout) => nmWords(l).total * 4;

function checkLayout(l: NmLayout) {
  if (!((l.n === 2 && l.m === 4) || (l.n === 4 && l.m === 8))) throw new Error(`N:M packing supports 2:4 and 4:8, not ${l.n}:${l.m}`);
  if (l.cols % l.m) throw new Error(`N:M packing: a row of ${l.cols} inputs is not whole groups of ${l.m}`);
}

/** Whether every group of M consecutive inputs of each row holds at most N nonzeros. */
export function isNmSparse(values: ArrayLike<number>, cols: number, n: number, m: number): boolean {
  if (cols % m || values.length % cols) return false;
  for (let g = 0; g < values.length; g += m) {
    let nz = 0;
    for (let j = 0; j < m; j++) if (values[g + j] !== 0) nz++;
    if (nz > n) return false;
  }
  return true;
}

/**
 * Pack a dense [rows, cols] matrix that is N:M sparse. A group with fewer than N nonzeros stores zeros at its
 * first free positions. Throws, naming the group, if one has more than N nonzeros.
 */
export function packNm(dense: ArrayLike<number>, l: NmLayout): PackedNm {
  checkLayout(l);
  const { n, m, rows, cols } = l;
  const ib = indexBits(m), gpw = groupsPerWord(l), sizes = nmWords(l);
  const words = new Uint32Array(sizes.total);
  const f32 = new Float32Array(words.buffer, 0, l.valueType === 'f32' ? sizes.values : 0);
  const f16 = new Uint16Array(words.buffer, 0, l.valueType === 'f16' ? 2 * sizes.values : 0);
  const groups = cols / m;
  const pick: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const o = r * cols + g * m;
      pick.length = 0;
      for (let j = 0; j < m; j++) if (dense[o + j] !== 0) pick.push(j);
      if (pick.length > n) throw new Error(`N:M packing: row ${r}, inputs ${g * m}..${g * m + m - 1} hold ${pick.length} nonzeros, more than ${n} of ${m}`);
      for (let j = 0; pick.length < n; j++) if (!pick.includes(j)) pick.push(j);
      pick.sort((a, b) => a - b);
      const v = (r * groups + g) * n;
      let bits = 0;
      for (let k = 0; k < n; k++) {
        if (l.valueType === 'f32') f32[v + k] = dense[o + pick[k]];
        else f16[v + k] = f32ToF16(dense[o + pick[k]]);
        bits |= pick[k] << (k * ib);
      }
      words[sizes.values + r * sizes.indexPerRow + Math.floor(g / gpw)] |= bits << ((g % gpw) * n * ib);
    }
  }
  return { ...l, words };
}

/** The dense [rows, cols] matrix (the CPU oracle of the sparse kernels). */
export function unpackNm(p: PackedNm): Float32Array {
  const { n, m, rows, cols } = p;
  const ib = indexBits(m), gpw = groupsPerWord(p), sizes = nmWords(p);
  const f32 = new Float32Array(p.words.buffer, p.words.byteOffset, p.valueType === 'f32' ? sizes.values : 0);
  const f16 = new Uint16Array(p.words.buffer, p.words.byteOffset, p.valueType === 'f16' ? 2 * sizes.values : 0);
  const out = new Float32Array(rows * cols), groups = cols / m;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const bits = p.words[sizes.values + r * sizes.indexPerRow + Math.floor(g / gpw)] >>> ((g % gpw) * n * ib);
      const v = (r * groups + g) * n;
      for (let k = 0; k < n; k++) {
        const j = (bits >>> (k * ib)) & (m - 1);
        out[r * cols + g * m + j] = p.valueType === 'f32' ? f32[v + k] : f16ToF32(f16[v + k]);
      }
    }
  }
  return out;
}
