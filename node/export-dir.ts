// Node host adapter for exporters: write an exported folder (ExportFile[]: paths and byte parts) to disk,
// part by part, so no file is ever joined into one buffer.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExportFile } from '../src/io/hf-export';

export function writeExportFiles(dir: string, files: readonly ExportFile[]): string[] {
  const written: string[] = [];
  for (const f of files) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    try {
      for (const part of f.parts) {
        let done = 0;
        while (done < part.byteLength) done += writeSync(fd, part, done, part.byteLength - done);
      }
    } finally {
      closeSync(fd);
    }
    written.push(path);
  }
  return written;
}
