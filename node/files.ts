// Node host adapters for ByteSource: read files lazily through a file handle.
import { openSync, readSync, fstatSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ByteSource, FileSet } from '../src/io/source';
import { TruncatedError } from '../src/io/source';
import { isTokenizerBin } from '../src/io/load';

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const name = basename(path);
  return {
    name,
    size,
    async read(offset, length) {
      if (offset < 0 || offset + length > size) throw new TruncatedError(name, offset, length, size);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new TruncatedError(name, offset, length, size);
        done += n;
      }
      return out;
    },
  };
}

/** A file, or every file of a directory (an HF checkout: config.json, *.safetensors, tokenizer.json). */
export function fileSetFromPath(path: string): FileSet {
  if (statSync(path).isDirectory()) {
    return new Map(readdirSync(path).filter((f) => statSync(join(path, f)).isFile()).map((f) => [f, fileSource(join(path, f))]));
  }
  return new Map([[basename(path), fileSource(path)]]);
}

/**
 * The files that make up the model at `path`: a directory's files, or a single file plus, for a llama2.c
 * checkpoint, the tokenizer that run.c expects beside it (tok512.bin, tokenizer.bin).
 */
export function modelFileSet(path: string): FileSet {
  const set = new Map(fileSetFromPath(path));
  if (!statSync(path).isDirectory() && path.toLowerCase().endsWith('.bin')) {
    const dir = dirname(path);
    for (const f of readdirSync(dir)) {
      if (isTokenizerBin(f) && !set.has(f)) set.set(f, fileSource(join(dir, f)));
    }
  }
  return set;
}
