// The Lab's downloads are built from byte parts (never one joined buffer, which browsers cap near 2 GB) and
// must stay byte-identical to what the CLI writes for the same model: each format's Blob (a file, or a folder
// as one tar) hashes the same as the CLI's file, or as the old joined tar of the CLI's folder.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { dirSource } from '../../node/data-source';
import { fileSource } from '../../node/files';
import { catalog } from '../../src/lab/catalog';
import { tar, tarParts } from '../../src/lab/tar';
import { Workspace } from '../../src/lab/workspace';
import { lab } from '../cli';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const blobSha = async (b: Blob) => sha(new Uint8Array(await b.arrayBuffer()));

describeWithShared('Lab exports as parts, byte-identical to the CLI', [STORIES.gguf, 'data/tinystories'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-exports-'));
  const gguf = sharedPath(STORIES.gguf);
  const ws = new Workspace();
  afterAll(() => {
    ws.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GGUF: one file, the same bytes as `lab export --format gguf`', async () => {
    await ws.load(new Map([['stories260K.gguf', fileSource(gguf)]]), {});
    const out = await ws.exportDownload('base', 'gguf');
    expect(out.path).toBe('stories260K.gguf');
    const r = await lab('export', gguf, '--format', 'gguf', '--out', join(dir, 'stories260K.gguf'));
    expect(r.code, r.stderr).toBe(0);
    const cli = new Uint8Array(readFileSync(join(dir, 'stories260K.gguf')));
    expect(out.bytes).toBe(cli.byteLength);
    expect(await blobSha(out.blob)).toBe(sha(cli));
  });

  it('safetensors + config: one tar whose bytes equal the old joined tar of the CLI\'s HF folder', async () => {
    const out = await ws.exportDownload('base', 'safetensors');
    expect(out.path).toBe('stories260K-safetensors.tar');
    expect(out.files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json']));
    const r = await lab('export', gguf, '--format', 'hf', '--out', join(dir, 'hf'));
    expect(r.code, r.stderr).toBe(0);
    const joined = tar(out.files.map((path) => ({ path, bytes: new Uint8Array(readFileSync(join(dir, 'hf', path))) })));
    expect(out.bytes).toBe(joined.byteLength);
    expect(await blobSha(out.blob)).toBe(sha(joined));
  });

  it('the lab artifact of a q8_0 run equals `lab compress --recipe q8_0`\'s file; ONNX tars as the joined files did', async () => {
    await ws.compress(catalog().recipes.find((x) => x.file === 'q8_0')!.json, dirSource(sharedPath('data')), {});
    const out = await ws.exportDownload('compressed', 'lab');
    const r = await lab('compress', gguf, '--recipe', 'q8_0', '--out', join(dir, 'q8.safetensors'));
    expect(r.code, r.stderr).toBe(0);
    const cli = new Uint8Array(readFileSync(join(dir, 'q8.safetensors')));
    expect(await blobSha(out.blob)).toBe(sha(cli));
    // the artifact the market and the cache take: same bytes, same hash
    const a = ws.artifact('compressed');
    expect(a.sha256).toBe(sha(cli));

    const files = await ws.exportFiles('compressed', 'onnx');
    const onnx = await ws.exportDownload('compressed', 'onnx');
    const joinFile = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
    expect(await blobSha(onnx.blob)).toBe(sha(tar(files.map((f) => ({ path: f.path, bytes: joinFile(f.parts) })))));
    // a tar of parts: headers and padding are separate parts; a tensor's bytes are not copied into a new buffer
    const parts = tarParts(files);
    expect(parts.length).toBeGreaterThan(files.length * 2);
  });
});
