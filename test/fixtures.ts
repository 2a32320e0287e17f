// Fixtures live in ../shared beside the repo (never copied in). A test whose fixture is absent is
// skipped with the reason printed, so a missing fixture can never pass silently.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.SHARED_DIR ?? resolve(REPO, '../shared');

export const sharedPath = (rel: string) => join(SHARED, rel);
export const hasShared = (...rels: string[]) => rels.every((r) => existsSync(sharedPath(r)));
export const readShared = (rel: string) => new Uint8Array(readFileSync(sharedPath(rel)));

export const STORIES = {
  gguf: 'models/stories260K/stories260K.gguf',
  bin: 'models/stories260K/stories260K.bin',
  tok: 'models/stories260K/tok512.bin',
  reference: 'models/stories260K/reference_greedy.json',
  tinystories: 'data/tinystories/valid_a.txt',
} as const;

/** `describe` when every fixture exists; otherwise a skipped suite whose reason is printed. */
export function describeWithShared(name: string, rels: string[], fn: () => void) {
  const missing = rels.filter((r) => !existsSync(sharedPath(r)));
  if (missing.length === 0) return describe(name, fn);
  const reason = `SKIPPED "${name}": fixture(s) absent: ${missing.map(sharedPath).join(', ')}`;
  console.warn(reason);
  return describe.skip(`${name} [${reason}]`, fn);
}
