/**
 * Random-access bytes, so importers read a header and then one tensor at a time instead of holding a
 * whole (possibly > 2 GB) file in one ArrayBuffer. Browser: a File/Blob; Node: a file handle (node/files.ts);
 * tests: bytes in memory.
 */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws if the range runs past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export class TruncatedError extends Error {
  constructor(source: string, offset: number, length: number, size: number) {
    super(`${source}: file is truncated: needs bytes ${offset}..${offset + length} but has only ${size}`);
    this.name = 'TruncatedError';
  }
}

function checkRange(src: ByteSource, offset: number, length: number) {
  if (offset < 0 || length < 0 || offset + length > src.size) throw new TruncatedError(src.name, offset, length, src.size);
}

export function bytesSource(bytes: Uint8Array, name = 'memory'): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(this, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

export function blobSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(this, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** A model may be several files (config.json + shards + tokenizer.json); importers look them up by name. */
export type FileSet = ReadonlyMap<string, ByteSource>;

export async function readText(src: ByteSource): Promise<string> {
  return new TextDecoder().decode(await src.read(0, src.size));
}
