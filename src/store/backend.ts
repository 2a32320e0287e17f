// Where the model cache keeps its bytes: an entry table and numbered chunks. IndexedDB in the browser
// (idb-backend.ts), files on disk in Node (node/store-fs.ts); ModelCache holds every rule (chunking,
// generations, eviction, quota errors) and the backends only store and fetch.
import type { StoredEntry } from './cache';

/** A chunk's address: the entry generation it belongs to, the file's index in the entry, the chunk's index. */
export type ChunkKey = readonly [generation: string, file: number, chunk: number];

export interface StoreBackend {
  getEntry(id: string): Promise<StoredEntry | undefined>;
  allEntries(): Promise<StoredEntry[]>;
  /** Write (or replace) an entry record; visible to readers only once complete. */
  putEntry(entry: StoredEntry): Promise<void>;
  deleteEntry(id: string): Promise<void>;
  putChunk(key: ChunkKey, bytes: Uint8Array): Promise<void>;
  /** `length` bytes at `offset` within the chunk, or undefined when the chunk is gone. */
  readChunk(key: ChunkKey, offset: number, length: number): Promise<Uint8Array | undefined>;
  /** The whole chunk as a Blob (for download links), or undefined when it is gone. */
  chunkBlob(key: ChunkKey): Promise<Blob | undefined>;
  /** Remove every chunk of a generation (none may remain). */
  deleteChunks(generation: string): Promise<void>;
  /** Whether an error thrown by a write means "out of room". */
  isQuotaError(e: unknown): boolean;
  /** The host's estimate of storage used and available, where it has one. */
  estimate(): Promise<{ usage?: number; quota?: number }>;
  close(): void;
}
