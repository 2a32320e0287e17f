// ModelCache's store in Node: files on disk under one folder. entries/<id>.json holds each entry record
// (written to a temporary name and renamed, so a reader never sees half of one); chunks/<generation>/<file>.<chunk>
// holds the bytes, read back by range so no chunk is loaded whole unless asked for.
import { closeSync, existsSync, mkdirSync, openAsBlob, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCache, type StoredEntry } from '../src/store/cache';
import type { ChunkKey, StoreBackend } from '../src/store/backend';

/** File names from ids and generations: any character outside [A-Za-z0-9._-] percent-encoded. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, (c) => '%' + [...new TextEncoder().encode(c)].map((b) => b.toString(16).padStart(2, '0')).join('%'));

export class FsBackend implements StoreBackend {
  private readonly entries: string;
  private readonly chunks: string;

  constructor(readonly root: string) {
    this.entries = join(root, 'entries');
    this.chunks = join(root, 'chunks');
    mkdirSync(this.entries, { recursive: true });
    mkdirSync(this.chunks, { recursive: true });
  }

  private entryPath(id: string) {
    return join(this.entries, `${safe(id)}.json`);
  }

  private chunkPath([generation, file, chunk]: ChunkKey) {
    return join(this.chunks, safe(generation), `${file}.${chunk}`);
  }

  async getEntry(id: string): Promise<StoredEntry | undefined> {
    const p = this.entryPath(id);
    return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined;
  }

  async allEntries(): Promise<StoredEntry[]> {
    return readdirSync(this.entries).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(this.entries, f), 'utf8')));
  }

  async putEntry(entry: StoredEntry) {
    const p = this.entryPath(entry.id);
    writeFileSync(`${p}.tmp`, JSON.stringify(entry));
    renameSync(`${p}.tmp`, p);
  }

  async deleteEntry(id: string) {
    rmSync(this.entryPath(id), { force: true });
  }

  async putChunk(key: ChunkKey, bytes: Uint8Array) {
    const p = this.chunkPath(key);
    mkdirSync(join(this.chunks, safe(key[0])), { recursive: true });
    writeFileSync(p, bytes);
  }

  async readChunk(key: ChunkKey, offset: number, length: number): Promise<Uint8Array | undefined> {
    let fd: number;
    try {
      fd = openSync(this.chunkPath(key), 'r');
    } catch {
      return undefined;
    }
    try {
      const out = new Uint8Array(length);
      for (let done = 0; done < length;) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) return undefined; // shorter than the entry says: treat as missing
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }

  async chunkBlob(key: ChunkKey): Promise<Blob | undefined> {
    const p = this.chunkPath(key);
    return existsSync(p) ? openAsBlob(p) : undefined;
  }

  async deleteChunks(generation: string) {
    rmSync(join(this.chunks, safe(generation)), { recursive: true, force: true });
  }

  isQuotaError(e: unknown) {
    const code = (e as { code?: string }).code;
    return code === 'ENOSPC' || code === 'EDQUOT';
  }

  async estimate() {
    const s = statfsSync(this.root);
    const quota = s.blocks * s.bsize;
    return { usage: quota - s.bavail * s.bsize, quota };
  }

  close() {}
}

/** A model cache in a folder on disk: the same ModelCache the browser uses, over files. */
export function openFsCache(root: string, opts: { chunkBytes?: number } = {}): ModelCache {
  return ModelCache.on(new FsBackend(root), opts);
}
