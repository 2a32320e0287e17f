// Every body the market API takes, fuzzed (fast-check): arbitrary JSON, arbitrary bytes, valid signed envelopes
// with one value replaced (signed again, so the checks behind the signature run too), absurd nesting, random
// blob names and query strings. Every answer must be a 2xx or a 4xx with `{ error, message }`, never a 500,
// within the time limit; nothing refused is stored. In process (Hono's app.request) over real SQLite.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { requestPayload, signEnvelope, submissionPayload, type Signer } from '../../src/market/payload';
import { keyFromUri } from '../../src/market/signing';
import { createApp } from '../../server/app';
import { BlobStore } from '../../server/blobs';
import { Market } from '../../server/market';
import { SqliteStore } from '../../server/sqlite';
import { fakeResult } from '../server/market-fixtures';
import { describeStats, fuzz, FUZZ_SEED, type FuzzStats } from './harness';

const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const all: FuzzStats[] = [];

type Path = (string | number)[];

function paths(v: unknown, at: Path = []): Path[] {
  if (v === null || typeof v !== 'object') return [at];
  const kids = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [at, ...kids.flatMap(([k, x]) => paths(x, [...at, k]))];
}

function replaceAt<T>(root: T, path: Path, value: unknown): T {
  if (path.length === 0) return value as T;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return copy as T;
}

describe('fuzzing the market API bodies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-fuzz-'));
  const clock = 1_800_000_000_000;
  let store: SqliteStore;
  let app: ReturnType<typeof createApp>;
  let alice: Signer, bob: Signer;
  let requestId: string;
  let validRequest: ReturnType<typeof requestPayload>;
  const artifact = new Uint8Array(512).map((_, i) => i & 255);
  const sha = sha256OfBytes(artifact);
  let accepted = 0;

  /** One call; fails the case on a 5xx or on a 4xx without a reason. */
  const call = async (method: string, path: string, body?: BodyInit) => {
    const r = await app.request(path, { method, body, headers: { 'content-type': 'application/json' } });
    const text = await r.text();
    if (r.status >= 500) throw new TypeError(`${method} ${path} answered ${r.status}: ${text.slice(0, 300)}`);
    if (r.status >= 400) {
      const j = JSON.parse(text) as { error?: string; message?: string };
      if (!j.error || !j.message) throw new TypeError(`${method} ${path} answered ${r.status} without a reason: ${text.slice(0, 300)}`);
      throw new Error(`${r.status} ${j.error}: ${j.message}`); // a clear refusal
    }
    if (method === 'POST') accepted++;
    return text;
  };

  beforeAll(async () => {
    store = new SqliteStore(join(dir, 'market.sqlite'));
    await store.migrate();
    const market = new Market(store, new BlobStore(join(dir, 'blobs')), { epochMs: 3_600_000, maxArtifactBytes: 64 * 1024, rateLimit: null, now: () => clock });
    app = createApp(market, { maxJsonBytes: 64 * 1024 });
    [alice, bob] = (await Promise.all(['//Alice', '//Bob'].map(keyFromUri))).map((k) => k.signer);
    validRequest = requestPayload({
      title: 'fuzz', base: { name: 'b.gguf', sha256: 'cd'.repeat(32), bytes: 10_000 },
      constraints: [{ task: 'arc_easy', metric: 'acc', op: '>=', value: 0.2 }], objective: { kind: 'smallest_bytes' },
      bid: { amount: 1, currency: 'TAO' }, deadlineEpochs: 2, payout: [0.5, 0.5],
    }, alice.address, clock);
    requestId = JSON.parse(await call('POST', '/v1/requests', JSON.stringify(await signEnvelope(validRequest, alice)))).id;
    await call('PUT', `/v1/blobs/${sha}`, artifact);
    accepted = 0;
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const submission = () => submissionPayload({
    requestId, artifact: { sha256: sha, bytes: artifact.length, name: 'm.gguf' }, miner: bob.address, now: clock,
    result: fakeResult({ artifactSha256: sha, cost: { ...fakeResult().cost, bytesOnDisk: artifact.length } }),
  });

  it('arbitrary JSON and arbitrary bytes', async () => {
    const routes = fc.constantFrom('/v1/requests', '/v1/submissions');
    all.push(await fuzz('API: any JSON', fc.tuple(routes, fc.jsonValue({ maxDepth: 6 })), ([route, v]) => call('POST', route, JSON.stringify(v)), { runs: RUNS / 2 }));
    all.push(await fuzz('API: any bytes', fc.tuple(routes, fc.uint8Array({ maxLength: 4096 })), ([route, b]) => call('POST', route, b), { runs: RUNS / 4 }));
  });

  it('signed envelopes with one value replaced, signed again (and not)', async () => {
    const sub = submission();
    const subPaths = paths(sub);
    const reqPaths = paths(validRequest);
    const nasty = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53, 0.1, '', 'x'.repeat(10_000), [], {}, null, '__proto__', { __proto__: { polluted: 1 } }),
    );
    all.push(await fuzz('API: submission fields', fc.tuple(fc.constantFrom(...subPaths), nasty, fc.boolean()), async ([path, value, resign]) => {
      const payload = replaceAt({ ...sub, nonce: crypto.randomUUID().replaceAll('-', '') }, path, value);
      const env = resign ? await signEnvelope(payload, bob) : { payload, signature: (await signEnvelope(sub, bob)).signature };
      return call('POST', '/v1/submissions', JSON.stringify(env));
    }, { runs: RUNS }));
    all.push(await fuzz('API: request fields', fc.tuple(fc.constantFrom(...reqPaths), nasty), async ([path, value]) => {
      const payload = replaceAt({ ...validRequest, nonce: crypto.randomUUID().replaceAll('-', '') }, path, value);
      return call('POST', '/v1/requests', JSON.stringify(await signEnvelope(payload, alice)));
    }, { runs: RUNS / 2 }));
    // the envelope itself: extra keys, wrong types
    all.push(await fuzz('API: envelope', fc.record({ payload: fc.jsonValue({ maxDepth: 2 }), signature: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
      (env) => call('POST', '/v1/submissions', JSON.stringify(env)), { runs: RUNS / 4 }));
  });

  it('absurd nesting and size: refused, not a crash', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const sub = submission();
    const nested = fc.integer({ min: 1000, max: 30_000 }); // under the 64 KiB body limit
    all.push(await fuzz('API: nesting', fc.tuple(nested, fc.boolean()), async ([n, inRecipe]) => {
      if (!inRecipe) return call('POST', '/v1/submissions', deep(n));
      // a validly signed payload whose recipe (any JSON) nests n deep: the signature cannot even be computed
      // over it here, so the envelope carries the recipe text inside an otherwise valid body
      const body = JSON.stringify({ payload: { ...sub, recipe: null }, signature: `0x${'11'.repeat(64)}` }).replace('"recipe":null', `"recipe":${deep(n)}`);
      return call('POST', '/v1/submissions', body);
    }, { runs: 60, timeoutMs: 3000 }));
  });

  it('blob names, blob bodies and query strings', async () => {
    all.push(await fuzz('API: blobs', fc.tuple(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[0-9a-f]{64}$/)), fc.uint8Array({ maxLength: 2048 })),
      ([name, body]) => call('PUT', `/v1/blobs/${encodeURIComponent(name)}`, body), { runs: RUNS / 4 }));
    const q = fc.string({ maxLength: 24 }).map(encodeURIComponent);
    all.push(await fuzz('API: queries', fc.tuple(fc.constantFrom('/v1/submissions?limit=', '/v1/submissions?epoch=', '/v1/submissions?status=', '/v1/requests?status=', '/v1/requests?limit=', '/v1/epochs/', '/v1/requests/', '/v1/miners/', '/v1/submissions/', '/v1/epochs?limit='), q),
      ([route, v]) => call('GET', route + v), { runs: RUNS / 4 }));
  });

  it('prints the figures; nothing refused was stored', async () => {
    for (const s of all) console.log(describeStats(s));
    const cases = all.reduce((n, s) => n + s.cases, 0);
    const stored = (await store.listSubmissions({ limit: 100_000 })).length + (await store.listRequests({ limit: 100_000 })).length - 1;
    console.log(`fuzz (API): ${cases} cases tried, 0 server errors, 0 hangs; ${accepted} accepted, ${stored} stored (seed ${FUZZ_SEED})`);
    expect(stored).toBe(accepted);
    expect(cases).toBeGreaterThanOrEqual(RUNS * 2);
  });
});
