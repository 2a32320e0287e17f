// sha256 of a ByteSource, streamed in 16 MB slices (WebCrypto cannot hash incrementally; @noble/hashes can).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ByteSource } from './source';

const SLICE = 16 * 1024 * 1024;

export async function sha256Hex(src: ByteSource, signal?: AbortSignal): Promise<string> {
  const h = sha256.create();
  for (let o = 0; o < src.size; o += SLICE) {
    signal?.throwIfAborted();
    h.update(await src.read(o, Math.min(SLICE, src.size - o)));
  }
  return bytesToHex(h.digest());
}

export const sha256OfBytes = (bytes: Uint8Array) => bytesToHex(sha256(bytes));

/** sha256 of byte parts written back to back, without joining them. */
export function sha256OfParts(parts: readonly Uint8Array[]): string {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return bytesToHex(h.digest());
}
