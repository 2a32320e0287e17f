// Training checkpoints in IndexedDB, one per compressed model (keyed by its recipe hash): the last one written
// wins. Bytes are the trainers' checkpoint format (src/passes/distill/checkpoint.ts), so either backend resumes.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { HealRun } from './train';

export interface StoredCheckpoint {
  key: string; step: number; bytes: Uint8Array; savedAt: number;
  /** The stretches of training that led to it (absent in checkpoints stored before they were recorded). */
  runs?: HealRun[];
}

interface Schema extends DBSchema {
  checkpoints: { key: string; value: StoredCheckpoint };
}

export class CheckpointStore {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  static async open(name = 'lab-train'): Promise<CheckpointStore> {
    return new CheckpointStore(await openDB<Schema>(name, 1, {
      upgrade(db) {
        db.createObjectStore('checkpoints', { keyPath: 'key' });
      },
    }));
  }

  async put(key: string, step: number, bytes: Uint8Array, runs: HealRun[]): Promise<void> {
    await this.db.put('checkpoints', { key, step, bytes, savedAt: Date.now(), runs });
  }

  get(key: string): Promise<StoredCheckpoint | undefined> {
    return this.db.get('checkpoints', key);
  }

  async delete(key: string): Promise<void> {
    await this.db.delete('checkpoints', key);
  }

  close(): void {
    this.db.close();
  }
}
