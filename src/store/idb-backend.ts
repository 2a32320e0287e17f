// The browser's store for ModelCache: IndexedDB (idb), one object store of entries and one of chunk Blobs
// keyed [generation, file, chunk]. Blobs let the browser keep chunks on disk and read slices lazily.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ChunkKey, StoreBackend } from './backend';
import type { StoredEntry } from './cache';

interface CacheSchema extends DBSchema {
  entries: { key: string; value: StoredEntry };
  /** [generation, file index, chunk index] -> chunk bytes */
  chunks: { key: [string, number, number]; value: Blob };
}

export class IdbBackend implements StoreBackend {
  private constructor(private readonly db: IDBPDatabase<CacheSchema>) {}

  static async open(name: string): Promise<IdbBackend> {
    const db = await openDB<CacheSchema>(name, 1, {
      upgrade(db) {
        db.createObjectStore('entries', { keyPath: 'id' });
        db.createObjectStore('chunks');
      },
    });
    return new IdbBackend(db);
  }

  getEntry(id: string) {
    return this.db.get('entries', id);
  }

  allEntries() {
    return this.db.getAll('entries');
  }

  async putEntry(entry: StoredEntry) {
    await this.db.put('entries', entry);
  }

  async deleteEntry(id: string) {
    await this.db.delete('entries', id);
  }

  async putChunk(key: ChunkKey, bytes: Uint8Array) {
    await this.db.put('chunks', new Blob([bytes as BlobPart]), [...key]);
  }

  async readChunk(key: ChunkKey, offset: number, length: number) {
    const blob = await this.db.get('chunks', [...key]);
    return blob && new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
  }

  chunkBlob(key: ChunkKey) {
    return this.db.get('chunks', [...key]);
  }

  async deleteChunks(generation: string) {
    await this.db.delete('chunks', IDBKeyRange.bound([generation, -Infinity, -Infinity], [generation, Infinity, Infinity]));
  }

  isQuotaError(e: unknown) {
    return e instanceof DOMException && (e.name === 'QuotaExceededError' || (e.name === 'UnknownError' && /quota|space/i.test(e.message)));
  }

  async estimate() {
    return typeof navigator !== 'undefined' && navigator.storage?.estimate ? navigator.storage.estimate() : {};
  }

  close() {
    this.db.close();
  }
}
