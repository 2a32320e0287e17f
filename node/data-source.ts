import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DataSource } from '../src/eval/data-source';

export function dirSource(root: string): DataSource {
  const abs = resolve(root);
  return {
    name: abs,
    readText: (path) => readFile(join(abs, path), 'utf8'),
    list: async (dir) => (await readdir(join(abs, dir))).sort(),
  };
}
