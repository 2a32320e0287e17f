// Opens the other models a recipe step names (a merge's inputs) from disk, lazily and pinned: the path
// resolves beside the config or recipe first (so it travels with its models), then from the cwd; a
// sha256 pin that does not match stops the run before any tensor is read.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { sha256Hex } from '../src/io/hash';
import type { ModelResolver } from '../src/passes/merge/plan';
import { openLazyStore } from '../src/passes/merge/store';
import { modelFileSet } from './files';

export function locateModel(ref: string, baseDir: string): string {
  if (isAbsolute(ref)) return ref;
  const beside = resolve(baseDir, ref);
  if (existsSync(beside)) return beside;
  if (existsSync(ref)) return resolve(ref);
  throw new Error(`model ${ref}: not found beside the config (${beside}) nor in the working directory`);
}

/**
 * A resolver for paths under `baseDir`; `aliases` maps names that are not paths ("self") to one, and
 * `hashes` collects each opened model's sha256 by the reference the config used.
 */
export function nodeModelResolver(
  baseDir: string, opts: { signal?: AbortSignal; aliases?: Record<string, string>; hashes?: Record<string, string> } = {},
): ModelResolver {
  const { signal, aliases = {}, hashes = {} } = opts;
  return async (ref, sha256) => {
    const path = locateModel(aliases[ref] ?? ref, baseDir);
    if (!existsSync(path)) throw new Error(`${path}: no such file or directory`);
    const files = modelFileSet(path);
    const [main] = [...files.values()].sort((a, b) => b.size - a.size);
    hashes[ref] = await sha256Hex(main, signal);
    if (sha256 && hashes[ref] !== sha256) throw new Error(`model ${ref}: sha256 ${hashes[ref]} does not match the pinned ${sha256}`);
    return openLazyStore(files, { signal });
  };
}
