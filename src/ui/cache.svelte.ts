// Page state of the Cache: what IndexedDB holds (models and compressed artifacts), the browser's quota, delete.
// Listing and deleting are small IndexedDB calls, so they run here; loading a cached model runs in the worker.
import { ModelCache, type StoredEntry } from '../store/cache';
import { message } from './worker';

export class CacheState {
  entries = $state<StoredEntry[]>([]);
  usage = $state<{ bytes: number; usage?: number; quota?: number } | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  /** Set when the last action did something worth announcing ("Deleted x"). */
  notice = $state<string | null>(null);

  private async withCache<T>(what: string, fn: (c: ModelCache) => Promise<T>): Promise<T | undefined> {
    let cache: ModelCache | undefined;
    try {
      cache = await ModelCache.open();
      return await fn(cache);
    } catch (e) {
      this.error = `${what}: ${message(e)}`;
      return undefined;
    } finally {
      cache?.close();
    }
  }

  async refresh(): Promise<void> {
    this.loading = true;
    await this.withCache('Could not read the cache', async (c) => {
      this.entries = await c.list();
      this.usage = await c.usage();
    });
    this.loading = false;
  }

  async remove(entry: StoredEntry): Promise<void> {
    this.error = null;
    const ok = await this.withCache(`Could not delete ${entry.name}`, (c) => c.delete(entry.id));
    if (ok) this.notice = `Deleted ${entry.name}.`;
    await this.refresh();
  }

  async downloadFile(entry: StoredEntry, path: string): Promise<Blob | undefined> {
    return this.withCache(`Could not read ${path}`, (c) => c.blob(entry.id, path));
  }
}
