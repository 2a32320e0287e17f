/**
 * Random-access bytes, so importers read a header and then one tensor at a time instead of holding a
 * whole (possibly > 2 GB) file in one ArrayBuffer. Browser: a File/Blob; Node: a file handle (node/files.ts);
 * anywhere: a URL read with HTTP Range requests; tests: bytes in memory.
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

export class RangeRequestError extends Error {
  constructor(url: string, detail: string) {
    super(`${url}: ${detail}`);
    this.name = 'RangeRequestError';
  }
}

/**
 * A file behind a URL, read with HTTP Range requests: one request per read, so a model of any size streams in
 * pieces. The size comes from a HEAD request (Content-Length); a server that ignores Range (answers 200 with
 * the whole file) is refused by name rather than downloaded whole.
 */
export async function urlSource(url: string, opts: { name?: string; fetch?: typeof fetch; signal?: AbortSignal } = {}): Promise<ByteSource> {
  const get = opts.fetch ?? fetch;
  const head = await get(url, { method: 'HEAD', signal: opts.signal });
  if (!head.ok) throw new RangeRequestError(url, `HTTP ${head.status} ${head.statusText}`.trim());
  const size = Number(head.headers.get('content-length'));
  if (!Number.isSafeInteger(size) || head.headers.get('content-length') === null) throw new RangeRequestError(url, 'the server sent no Content-Length, so the file cannot be read in ranges');
  const name = opts.name ?? decodeURIComponent(new URL(url, 'http://base/').pathname.split('/').pop() || 'url');
  const src: ByteSource = {
    name,
    size,
    async read(offset, length) {
      checkRange(src, offset, length);
      if (length === 0) return new Uint8Array(0);
      const res = await get(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` }, signal: opts.signal });
      if (res.status !== 206) {
        await res.body?.cancel();
        throw new RangeRequestError(url, `asked for bytes ${offset}-${offset + length - 1}, got HTTP ${res.status}: the server does not serve byte ranges`);
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength !== length) throw new TruncatedError(name, offset, length, offset + bytes.byteLength);
      return bytes;
    },
  };
  return src;
}

/** A model may be several files (config.json + shards + tokenizer.json); importers look them up by name. */
export type FileSet = ReadonlyMap<string, ByteSource>;

export async function readText(src: ByteSource): Promise<string> {
  return new TextDecoder().decode(await src.read(0, src.size));
}
