// The model cache: models and artifacts (a set of named files), each file stored as chunks of at most
// `chunkBytes` (default 64 MiB, never over 256 MiB), so nothing ever needs one ArrayBuffer the size of a file.
// In the browser the chunks are IndexedDB Blobs (idb-backend.ts); in Node, files on disk (node/store-fs.ts).
// Chunks are read back lazily through ByteSource, so `loadModel(await cache.fileSet(id))` imports straight
// from the cache. Entries are listed with sizes, evicted by least recent
// use, and survive reloads. A write goes under a fresh generation key and becomes visible only when complete:
// a failed or cancelled write (quota, abort) removes its own chunks and leaves what was stored before intact.
import { throwIfAborted } from '../io/errors';
import type { ByteSource, FileSet } from '../io/source';
import type { StoreBackend } from './backend';
import { IdbBackend } from './idb-backend';

export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export type EntryKind = 'model' | 'artifact';

export interface StoredFile {
  readonly path: string;
  readonly bytes: number;
  readonly chunks: number;
}

export interface StoredEntry {
  readonly id: string;
  readonly kind: EntryKind;
  readonly name: string;
  readonly bytes: number;
  readonly files: readonly StoredFile[];
  readonly chunkBytes: number;
  readonly createdAt: number;
  readonly lastUsed: number;
  /** Anything the caller wants kept beside the bytes (format, recipe hash, sha256 ...). */
  readonly meta: Record<string, unknown>;
  /** Key prefix of this entry's chunks. */
  readonly generation: string;
}

/** The browser refused to store more: names what was being stored and how much room there is. */
export class StoreQuotaError extends Error {
  constructor(readonly id: string, readonly needed: number, readonly usage?: number, readonly quota?: number) {
    const room = quota != null && usage != null ? ` (${fmt(usage)} of ${fmt(quota)} used)` : '';
    super(`storage quota exceeded while caching "${id}" (${fmt(needed)})${room}; evict cached models or free browser storage`);
    this.name = 'StoreQuotaError';
  }
}

const fmt = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/**
 * What `put` stores: files by path, each a Blob, bytes, byte parts written back to back (an exporter's
 * ExportFile.parts), or any ByteSource (read one chunk at a time).
 */
export type PutFile = { path: string; data: Blob | Uint8Array | readonly Uint8Array[] | ByteSource };

/** Parts as one ByteSource: a read may span several parts. */
function partsSource(name: string, parts: readonly Uint8Array[]): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) {
    starts.push(size);
    size += p.byteLength;
  }
  return {
    name, size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let i = starts.findLastIndex((s) => s <= offset);
      for (let p = 0; p < length; i++) {
        const part = parts[i], from = offset + p - starts[i];
        const n = Math.min(length - p, part.byteLength - from);
        out.set(part.subarray(from, from + n), p);
        p += n;
      }
      return out;
    },
  };
}

export interface PutOptions {
  kind?: EntryKind;
  name?: string;
  meta?: Record<string, unknown>;
  signal?: AbortSignal;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
}

function asSource(f: PutFile): ByteSource {
  const d = f.data;
  if (d instanceof Uint8Array) return { name: f.path, size: d.byteLength, read: async (o, n) => d.subarray(o, o + n) };
  if (Array.isArray(d)) return partsSource(f.path, d);
  if (typeof Blob !== 'undefined' && d instanceof Blob) {
    return { name: f.path, size: d.size, read: async (o, n) => new Uint8Array(await d.slice(o, o + n).arrayBuffer()) };
  }
  return d as ByteSource;
}

export class ModelCache {
  private constructor(private readonly store: StoreBackend, readonly chunkBytes: number) {}

  /** The browser's cache: IndexedDB database `name`. */
  static async open(name = 'compression-lab', opts: { chunkBytes?: number } = {}): Promise<ModelCache> {
    return ModelCache.on(await IdbBackend.open(name), opts);
  }

  /** A cache over any backend (Node: `openFsCache` in node/store-fs.ts). */
  static on(store: StoreBackend, opts: { chunkBytes?: number } = {}): ModelCache {
    const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!(chunkBytes > 0 && chunkBytes <= MAX_CHUNK_BYTES)) throw new RangeError(`chunkBytes ${chunkBytes} must be in (0, ${MAX_CHUNK_BYTES}]`);
    return new ModelCache(store, chunkBytes);
  }

  close() {
    this.store.close();
  }

  /** Every entry, most recently used first. */
  async list(): Promise<StoredEntry[]> {
    return (await this.store.allEntries()).sort((a, b) => b.lastUsed - a.lastUsed);
  }

  async get(id: string): Promise<StoredEntry | undefined> {
    return this.store.getEntry(id);
  }

  /** Bytes of every stored entry, and the host's own estimate of usage and quota where it has one. */
  async usage(): Promise<{ bytes: number; usage?: number; quota?: number }> {
    const bytes = (await this.list()).reduce((s, e) => s + e.bytes, 0);
    const est = await this.store.estimate();
    return { bytes, usage: est.usage, quota: est.quota };
  }

  /**
   * Store `files` under `id`, replacing an entry of that id only once every chunk is written. One chunk is in
   * memory at a time. Throws StoreQuotaError when the browser runs out of room (nothing earlier is lost).
   */
  async put(id: string, files: readonly PutFile[], opts: PutOptions = {}): Promise<StoredEntry> {
    const generation = `${id}#${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const sources = files.map(asSource);
    const total = sources.reduce((s, f) => s + Math.ceil(f.size / this.chunkBytes), 0);
    const bytes = sources.reduce((s, f) => s + f.size, 0);
    let done = 0;
    try {
      const stored: StoredFile[] = [];
      for (let fi = 0; fi < sources.length; fi++) {
        const src = sources[fi];
        const chunks = Math.ceil(src.size / this.chunkBytes);
        for (let ci = 0; ci < chunks; ci++) {
          throwIfAborted(opts.signal);
          const at = ci * this.chunkBytes;
          const part = await src.read(at, Math.min(this.chunkBytes, src.size - at));
          await this.store.putChunk([generation, fi, ci], part);
          opts.onProgress?.({ stage: `caching ${files[fi].path}`, done: ++done, total });
        }
        stored.push({ path: files[fi].path, bytes: src.size, chunks });
      }
      throwIfAborted(opts.signal);
      const now = Date.now();
      const old = await this.get(id);
      const entry: StoredEntry = {
        id, kind: opts.kind ?? 'model', name: opts.name ?? id, bytes, files: stored, chunkBytes: this.chunkBytes,
        createdAt: now, lastUsed: now, meta: opts.meta ?? {}, generation,
      };
      await this.store.putEntry(entry);
      if (old) await this.store.deleteChunks(old.generation);
      return entry;
    } catch (e) {
      await this.store.deleteChunks(generation).catch(() => undefined);
      if (this.store.isQuotaError(e)) {
        const u = await this.usage().catch(() => ({ usage: undefined, quota: undefined }));
        throw new StoreQuotaError(id, bytes, u.usage, u.quota);
      }
      throw e;
    }
  }

  /**
   * The entry's files as ByteSources that read chunks on demand (loadModel takes this as it is). Marks the
   * entry used, for eviction order.
   */
  async fileSet(id: string): Promise<FileSet> {
    const entry = await this.get(id);
    if (!entry) throw new Error(`cache: no entry "${id}"`);
    await this.store.putEntry({ ...entry, lastUsed: Date.now() });
    const set = new Map<string, ByteSource>();
    entry.files.forEach((f, fi) => set.set(f.path, this.fileSource(entry, f, fi)));
    return set;
  }

  private fileSource(entry: StoredEntry, file: StoredFile, fi: number): ByteSource {
    const { chunkBytes, generation } = entry;
    const store = this.store;
    return {
      name: file.path,
      size: file.bytes,
      async read(offset, length) {
        if (offset < 0 || length < 0 || offset + length > file.bytes) {
          throw new RangeError(`${file.path}: bytes ${offset}..${offset + length} outside the cached file (${file.bytes} bytes)`);
        }
        const first = Math.floor(offset / chunkBytes);
        if (offset + length <= (first + 1) * chunkBytes) { // within one chunk: no second copy
          const bytes = await store.readChunk([generation, fi, first], offset - first * chunkBytes, length);
          if (!bytes) throw new Error(`cache: chunk ${first} of ${file.path} in "${entry.id}" is missing (storage was cleared?)`);
          return bytes;
        }
        const out = new Uint8Array(length);
        let p = 0;
        while (p < length) {
          const ci = Math.floor((offset + p) / chunkBytes);
          const within = offset + p - ci * chunkBytes;
          const n = Math.min(length - p, chunkBytes - within);
          const bytes = await store.readChunk([generation, fi, ci], within, n);
          if (!bytes) throw new Error(`cache: chunk ${ci} of ${file.path} in "${entry.id}" is missing (storage was cleared?)`);
          out.set(bytes, p);
          p += n;
        }
        return out;
      },
    };
  }

  /** One file of an entry as a Blob built from its chunk Blobs (for a download link; no bytes copied here). */
  async blob(id: string, path: string): Promise<Blob> {
    const entry = await this.get(id);
    const fi = entry?.files.findIndex((f) => f.path === path) ?? -1;
    if (!entry || fi < 0) throw new Error(`cache: no file ${path} in "${id}"`);
    const parts: Blob[] = [];
    for (let ci = 0; ci < entry.files[fi].chunks; ci++) {
      const b = await this.store.chunkBlob([entry.generation, fi, ci]);
      if (!b) throw new Error(`cache: chunk ${ci} of ${path} in "${id}" is missing`);
      parts.push(b);
    }
    return new Blob(parts);
  }

  async delete(id: string): Promise<boolean> {
    const entry = await this.get(id);
    if (!entry) return false;
    await this.store.deleteEntry(id);
    await this.store.deleteChunks(entry.generation);
    return true;
  }

  /** Delete least recently used entries until the cache holds at most `maxBytes`; returns the evicted ids. */
  async evict(maxBytes: number): Promise<string[]> {
    const entries = await this.list();
    let bytes = entries.reduce((s, e) => s + e.bytes, 0);
    const evicted: string[] = [];
    for (const e of entries.reverse()) {
      if (bytes <= maxBytes) break;
      await this.delete(e.id);
      bytes -= e.bytes;
      evicted.push(e.id);
    }
    return evicted;
  }
}
