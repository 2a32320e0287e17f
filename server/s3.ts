// An S3-compatible object store (AWS S3, MinIO, R2, ...) as the shared home of the market's artifacts, so the
// service and validators on several hosts see the same blobs: each host keeps its local content-addressed
// folder (blobs.ts) as a cache, uploads what it accepted, and fetches what it lacks (hash-checked again on the
// way in). Requests are signed with AWS Signature Version 4, written here (a few HMACs) rather than pulling in
// an SDK; the signer is checked against AWS's published example, the store itself has not been run against a
// real S3 in this repository's tests.
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export interface S3Config {
  /** https://s3.<region>.amazonaws.com, http://127.0.0.1:9000 (MinIO), ...; objects are addressed path-style. */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Key prefix inside the bucket (default "blobs/"). */
  prefix?: string;
}

/** $LAB_S3_ENDPOINT, $LAB_S3_BUCKET, $LAB_S3_REGION (us-east-1), $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY; null when unset. */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3Config | null {
  if (!env.LAB_S3_ENDPOINT) return null;
  const missing = ['LAB_S3_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].filter((k) => !env[k]);
  if (missing.length) throw new Error(`LAB_S3_ENDPOINT is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not`);
  return {
    endpoint: env.LAB_S3_ENDPOINT, bucket: env.LAB_S3_BUCKET!, region: env.LAB_S3_REGION ?? 'us-east-1',
    accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY!, prefix: env.LAB_S3_PREFIX,
  };
}

const utf8 = new TextEncoder();
const hex = (b: Uint8Array) => bytesToHex(b);
const sha256Hex = (s: string | Uint8Array) => hex(sha256(typeof s === 'string' ? utf8.encode(s) : s));
const hmacOf = (key: Uint8Array | string, msg: string) => hmac(sha256, typeof key === 'string' ? utf8.encode(key) : key, utf8.encode(msg));

/** RFC 3986 encoding of a path, segment by segment (S3 does not double-encode). */
const encodePath = (path: string) => path.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

export interface SignInput {
  method: string;
  url: URL;
  /** Headers to sign besides host, x-amz-date and x-amz-content-sha256 (lower-case names). */
  headers?: Record<string, string>;
  /** Hex sha256 of the body, or 'UNSIGNED-PAYLOAD'. */
  payloadHash: string;
  date: Date;
  region: string;
  service?: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The headers of a SigV4-signed request (Authorization included). */
export function signV4(i: SignInput): Record<string, string> {
  const service = i.service ?? 's3';
  const amzDate = i.date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(i.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    host: i.url.host, 'x-amz-content-sha256': i.payloadHash, 'x-amz-date': amzDate,
  };
  const names = Object.keys(headers).sort();
  const query = [...i.url.searchParams].map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = [
    i.method, encodePath(decodeURIComponent(i.url.pathname)), query.map(([k, v]) => `${k}=${v}`).join('&'),
    ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), i.payloadHash,
  ].join('\n');
  const scope = `${day}/${i.region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmacOf(hmacOf(hmacOf(hmacOf(`AWS4${i.secretAccessKey}`, day), i.region), service), 'aws4_request');
  const signature = hex(hmacOf(key, toSign));
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${i.accessKeyId}/${scope},SignedHeaders=${names.join(';')},Signature=${signature}` };
}

export class S3Remote {
  constructor(readonly cfg: S3Config) {}

  private url(sha: string) {
    return new URL(`${this.cfg.endpoint.replace(/\/$/, '')}/${this.cfg.bucket}/${this.cfg.prefix ?? 'blobs/'}${sha}`);
  }

  private async call(method: string, sha: string, init: { body?: Readable; headers?: Record<string, string> } = {}) {
    const url = this.url(sha);
    const headers = signV4({ method, url, headers: init.headers, payloadHash: 'UNSIGNED-PAYLOAD', date: new Date(),
      region: this.cfg.region, accessKeyId: this.cfg.accessKeyId, secretAccessKey: this.cfg.secretAccessKey,
    });
    delete headers.host; // fetch sets it
    return fetch(url, {
      method, headers, body: init.body ? (Readable.toWeb(init.body) as ReadableStream) : undefined,
      ...(init.body ? { duplex: 'half' } : {}),
    } as RequestInit);
  }

  /** Upload a stored blob (idempotent: the key is the content's hash). */
  async put(sha: string, file: string): Promise<void> {
    const r = await this.call('PUT', sha, { body: createReadStream(file), headers: { 'content-length': String(statSync(file).size) } });
    if (!r.ok) throw new Error(`S3 PUT ${sha}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
  }

  /** The blob's bytes as a stream, or null when the bucket does not have it. */
  async get(sha: string): Promise<AsyncIterable<Uint8Array> | null> {
    const r = await this.call('GET', sha);
    if (r.status === 404) return null;
    if (!r.ok || !r.body) throw new Error(`S3 GET ${sha}: HTTP ${r.status}`);
    return r.body as unknown as AsyncIterable<Uint8Array>;
  }
}
