// GGUF v3 writer: typed metadata, tensor descriptions, then tensor data aligned as llama.cpp's gguf.c expects.
import { DTYPES, type DTypeId } from '../model/dtype';
import type { Tensor } from '../model/tensor';

export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64' | 'bool'; value: number | boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; of: 'string'; value: readonly string[] }
  | { type: 'array'; of: 'f32' | 'i32' | 'u32'; value: ArrayLike<number> };

const TYPE_ID = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;
export const GGUF_ALIGNMENT = 32;

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private ensure(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number) { this.ensure(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number) { this.ensure(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number) { this.ensure(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  u64(v: number) { this.ensure(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  u8(v: number) { this.ensure(1); this.buf[this.length++] = v; }
  bytes(b: Uint8Array) { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; }
  string(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  pad(align: number) { while (this.length % align) this.u8(0); }
  result() { return this.buf.slice(0, this.length); }
}

function writeValue(w: ByteWriter, v: GgufValue) {
  if (v.type === 'array') {
    w.u32(TYPE_ID[v.of]);
    w.u64(v.value.length);
    for (let i = 0; i < v.value.length; i++) {
      const x = v.value[i];
      if (v.of === 'string') w.string(x as string);
      else if (v.of === 'f32') w.f32(x as number);
      else if (v.of === 'i32') w.i32(x as number);
      else w.u32(x as number);
    }
    return;
  }
  if (v.type === 'string') return w.string(v.value);
  const x = Number(v.value);
  ({ u32: () => w.u32(x), i32: () => w.i32(x), f32: () => w.f32(x), u64: () => w.u64(x), bool: () => w.u8(x ? 1 : 0) })[v.type]();
}

export interface GgufTensor {
  /** GGUF (llama.cpp) name, e.g. blk.0.attn_q.weight. */
  name: string;
  /** Outermost first, as in Tensor; written innermost first as ggml wants. */
  shape: readonly number[];
  dtype: DTypeId;
  data: Uint8Array;
}

/**
 * The file as parts written back to back: the header (metadata, tensor descriptions, padding), then each
 * tensor's bytes as stored and its alignment padding. Tensor bytes are never copied, so a file larger than any
 * one ArrayBuffer can be written out piece by piece.
 */
export function ggufParts(metadata: Record<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array[] {
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    w.string(key);
    w.u32(TYPE_ID[value.type]);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    const ggml = DTYPES[t.dtype].ggmlType;
    if (ggml === undefined) throw new Error(`tensor ${t.name}: ${t.dtype} has no GGUF type`);
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) w.u64(d);
    w.u32(ggml);
    w.u64(offset);
    offset += Math.ceil(t.data.length / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  w.pad(GGUF_ALIGNMENT);
  const parts: Uint8Array[] = [w.result()];
  const zeros = new Uint8Array(GGUF_ALIGNMENT);
  for (const t of tensors) {
    parts.push(t.data);
    const pad = (GGUF_ALIGNMENT - (t.data.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
    if (pad) parts.push(zeros.subarray(0, pad));
  }
  return parts;
}

/** The whole file in one buffer (small models, tests); `ggufParts` for anything large. */
export function writeGguf(metadata: Record<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array {
  const parts = ggufParts(metadata, tensors);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.byteLength), 0);
  return out;
}

export const asGgufTensor = (name: string, t: Tensor): GgufTensor => ({ name, shape: t.shape, dtype: t.dtype, data: t.data });
