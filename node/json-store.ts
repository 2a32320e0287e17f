// A JsonStore (src/predict/records.ts) in one JSON file: the Node host's place for predictor records and
// search state. Every put rewrites the file through a temporary file and a rename, so an interrupted write
// never leaves half a file behind, and a reader sees either the old state or the new one.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonStore } from '../src/predict/records';

export function jsonFileStore(path: string): JsonStore {
  const read = (): Record<string, unknown> => {
    if (!existsSync(path)) return {};
    try {
      const v = JSON.parse(readFileSync(path, 'utf8'));
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      return v as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${path}: not a store file (${(e as Error).message})`);
    }
  };
  return {
    async get(key) {
      return read()[key];
    },
    async put(key, value) {
      const all = read();
      all[key] = value;
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(all));
      renameSync(tmp, path);
    },
  };
}
