// safetensors writer: 8-byte little-endian header length, JSON header (padded with spaces to 8 bytes, as the
// reference implementation does), then tensor bytes in header order.
import { DTYPES } from '../model/dtype';
import type { Tensor } from '../model/tensor';

/**
 * Block-quantized tensors have no safetensors dtype: they are stored as raw U8 bytes, and their real dtype
 * and shape go into the `lab.tensors` metadata entry, which our reader honours.
 */
export function writeSafetensors(tensors: Iterable<Tensor>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const parts = safetensorsParts(tensors, metadata);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.byteLength), 0);
  return out;
}

/** The same file as byte parts (header, then each tensor's bytes as stored), never joined: any size. */
export function safetensorsParts(tensors: Iterable<Tensor>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array[] {
  const list = [...tensors];
  const quantized: Record<string, { dtype: string; shape: readonly number[] }> = {};
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of list) {
    const dtype = DTYPES[t.dtype].safetensors;
    const shape = dtype ? t.shape : [t.data.byteLength];
    if (!dtype) quantized[t.name] = { dtype: t.dtype, shape: t.shape };
    header[t.name] = { dtype: dtype ?? 'U8', shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  header.__metadata__ = Object.keys(quantized).length ? { ...metadata, 'lab.tensors': JSON.stringify(quantized) } : metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const first = new Uint8Array(8 + head.byteLength);
  new DataView(first.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  first.set(head, 8);
  return [first, ...list.map((t) => t.data)];
}
