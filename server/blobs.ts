// Content-addressed blob store on disk: blobs/ab/abcdef... (the sha256 of the bytes). An upload streams to a
// temporary file while it is hashed and counted; it becomes visible under its name only when the bytes hash
// to that name and fit the limit, so a bad upload never replaces or corrupts what is stored.
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ByteSource } from '../src/io/source';
import { fileSource } from '../node/files';
import type { S3Remote } from './s3';

export class BlobError extends Error {
  constructor(readonly status: 400 | 413, readonly code: string, message: string) {
    super(message);
  }
}

export class BlobStore {
  /** `remote`: an S3-compatible bucket shared by hosts (s3.ts); this folder is then a cache of it. */
  constructor(readonly dir: string, readonly remote: S3Remote | null = null) {
    mkdirSync(join(dir, 'tmp'), { recursive: true });
  }

  /** Is the blob here, fetching it from the remote store (hash-checked) when there is one and it is not? */
  async ensure(sha: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    if (this.has(sha)) return true;
    if (!this.remote) return false;
    const body = await this.remote.get(sha);
    if (!body) return false;
    await this.put(sha, body, maxBytes, false);
    return true;
  }

  path(sha: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new BlobError(400, 'bad_hash', `"${sha}" is not a lowercase hex sha256`);
    return join(this.dir, sha.slice(0, 2), sha);
  }

  has(sha: string): boolean {
    return existsSync(this.path(sha));
  }

  size(sha: string): number | null {
    return this.has(sha) ? statSync(this.path(sha)).size : null;
  }

  /** Random-access bytes of a stored blob, under the file name the loader should see (its extension names the format). */
  source(sha: string, name: string): ByteSource {
    const src = fileSource(this.path(sha));
    return { name, size: src.size, read: (o, l) => src.read(o, l) };
  }

  stream(sha: string) {
    return createReadStream(this.path(sha));
  }

  /** Store `body` if it hashes to `expected`; refuses more than `maxBytes`; then copies it to the remote store, if any. */
  async put(expected: string, body: AsyncIterable<Uint8Array>, maxBytes: number, upload = true): Promise<{ bytes: number; existed: boolean }> {
    const final = this.path(expected);
    if (existsSync(final)) return { bytes: statSync(final).size, existed: true };
    const tmp = join(this.dir, 'tmp', `${expected}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    const fh = await open(tmp, 'w');
    const h = sha256.create();
    let bytes = 0;
    try {
      for await (const chunk of body) {
        bytes += chunk.byteLength;
        if (bytes > maxBytes) throw new BlobError(413, 'too_large', `artifact exceeds the ${maxBytes}-byte upload limit`);
        h.update(chunk);
        await fh.write(chunk);
      }
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    const got = bytesToHex(h.digest());
    if (got !== expected) {
      await rm(tmp, { force: true });
      throw new BlobError(400, 'hash_mismatch', `artifact hash mismatch: the ${bytes} uploaded bytes hash to ${got}, not ${expected}`);
    }
    mkdirSync(join(this.dir, expected.slice(0, 2)), { recursive: true });
    await rename(tmp, final);
    if (upload && this.remote) await this.remote.put(expected, final);
    return { bytes, existed: false };
  }
}
