// safetensors writer: 8-byte little-endian header length, JSON header (padded with spaces to 8 bytes, as the
// reference implementation does), then tensor bytes in header order.
import { DTYPES } from '../model/dtype';
import type { Tensor } from '../model/tensor';

export function writeSafetensors(tensors: Iterable<Tensor>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const list = [...tensors];
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of list) {
    const dtype = DTYPES[t.dtype].safetensors;
    if (!dtype) throw new Error(`tensor ${t.name}: ${t.dtype} has no safetensors dtype; dequantize it first`);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let p = 8 + head.byteLength;
  for (const t of list) {
    out.set(t.data, p);
    p += t.data.byteLength;
  }
  return out;
}
