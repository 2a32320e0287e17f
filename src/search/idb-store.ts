// The browser's JsonStore (src/predict/records.ts): one IndexedDB object store of JSON values by key, for
// predictor records and search state, so a search resumes after a reload. The model cache (src/store) is a
// separate database; this one holds only small documents.
import { openDB, type IDBPDatabase } from 'idb';
import type { JsonStore } from '../predict/records';

const STORE = 'documents';

export function idbJsonStore(name = 'lab-search'): JsonStore {
  let db: Promise<IDBPDatabase> | undefined;
  const open = () => (db ??= openDB(name, 1, { upgrade: (d) => void d.createObjectStore(STORE) }));
  return {
    async get(key) {
      return (await open()).get(STORE, key);
    },
    async put(key, value) {
      // structured clone keeps numbers exact; a JSON round-trip first drops undefined and class instances
      await (await open()).put(STORE, JSON.parse(JSON.stringify(value)), key);
    },
  };
}
