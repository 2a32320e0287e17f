// The folder-export archive is a real tar: the system's tar lists and extracts it byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tar } from '../../src/lab/tar';

it('writes a ustar archive that tar extracts exactly, long paths included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-tar-'));
  try {
    const big = new Uint8Array(1300).map((_, i) => (i * 31) & 255);
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/model.onnx`;
    const entries = [
      { path: 'config.json', bytes: new TextEncoder().encode('{"a":1}') },
      { path: 'onnx/model.onnx', bytes: big },
      { path: long, bytes: new Uint8Array(0) },
    ];
    const bytes = tar(entries);
    expect(bytes.byteLength % 512).toBe(0);
    writeFileSync(join(dir, 'x.tar'), bytes);
    expect(execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' }).trim().split('\n')).toEqual(entries.map((e) => e.path));
    execFileSync('tar', ['-xf', join(dir, 'x.tar'), '-C', dir]);
    for (const e of entries) expect(new Uint8Array(readFileSync(join(dir, e.path)))).toEqual(e.bytes);
    expect(() => tar([{ path: `${'x'.repeat(120)}.bin`, bytes: big }])).toThrow(/path too long/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
