// The market API in process (Hono's app.request) over a real SQLite file and a real PostgreSQL database (the
// same suite on each), a real blob store and real sr25519: every refusal is a 4xx naming the problem, and
// nothing refused is stored.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTaskLibrary } from '../../node/tasks';
import { dirSource } from '../../node/data-source';
import { sha256OfBytes } from '../../src/io/hash';
import { requestPayload, signEnvelope, submissionPayload, type Signer } from '../../src/market/payload';
import type { SubmissionPayload } from '../../src/market/schema';
import { keyFromUri } from '../../src/market/signing';
import { createApp } from '../../server/app';
import { BlobStore } from '../../server/blobs';
import { Market } from '../../server/market';
import { SqliteStore } from '../../server/sqlite';
import type { Store } from '../../server/store';
import { Validator } from '../../server/validator';
import { describeEachBackend, openTestStore } from './backends';
import { fakeResult } from './market-fixtures';

const EPOCH = 60_000;

describeEachBackend('market API: validation, 4xx reasons, epochs', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'market-api-'));
  let clock = 1_800_000_000_000;
  let store: Store;
  let market: Market;
  let app: ReturnType<typeof createApp>;
  let alice: Signer, bob: Signer, eve: Signer;
  let requestId: string;
  const artifact = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 255);
  const sha = sha256OfBytes(artifact);

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body);
    const r = await app.request(path, init);
    return { status: r.status, json: (await r.json()) as Record<string, any> };
  };
  const payload = (over: Partial<SubmissionPayload> = {}, signer = bob): SubmissionPayload => ({
    ...submissionPayload({
      requestId, artifact: { sha256: sha, bytes: artifact.length, name: 'model.gguf' },
      result: fakeResult({ artifactSha256: sha, cost: { ...fakeResult().cost, bytesOnDisk: artifact.length } }), miner: signer.address, now: clock,
    }),
    ...over,
  });
  const submissionsStored = async () => (await store.listSubmissions()).length;

  beforeAll(async () => {
    store = await openTestStore(backend, dir);
    await store.migrate();
    market = new Market(store, new BlobStore(join(dir, 'blobs')), { epochMs: EPOCH, maxArtifactBytes: 64 * 1024, now: () => clock });
    app = createApp(market, { maxJsonBytes: 64 * 1024 });
    [alice, bob, eve] = (await Promise.all(['//Alice', '//Bob', '//Eve'].map(keyFromUri))).map((k) => k.signer);
    const req = requestPayload({
      title: 'smaller stories', base: { name: 'base.gguf', sha256: 'cd'.repeat(32), bytes: 10_000 },
      constraints: [{ task: 'arc_easy', metric: 'acc', op: '>=', value: 0.2 }], objective: { kind: 'smallest_bytes' },
      bid: { amount: 5, currency: 'USD' }, deadlineEpochs: 2, payout: [1],
    }, alice.address, clock);
    const r = await call('POST', '/v1/requests', await signEnvelope(req, alice));
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    requestId = r.json.id;
    // replaying the same signed request is refused
    expect((await call('POST', '/v1/requests', await signEnvelope(req, alice))).json.error).toBe('replay');
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrations apply once', async () => {
    expect(await store.migrate()).toEqual([]);
    if (store instanceof SqliteStore) expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('artifact uploads: wrong hash 400, oversize 413, bad name 400; nothing stored until the hash matches', async () => {
    const wrong = await call('PUT', `/v1/blobs/${'00'.repeat(32)}`, artifact, { 'content-type': 'application/octet-stream' });
    expect(wrong).toMatchObject({ status: 400, json: { error: 'hash_mismatch', message: expect.stringMatching(new RegExp(`4096 uploaded bytes hash to ${sha}, not 0000`)) } });
    const big = new Uint8Array(64 * 1024 + 1);
    const over = await call('PUT', `/v1/blobs/${sha256OfBytes(big)}`, big, { 'content-type': 'application/octet-stream' });
    expect(over).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect((await call('PUT', '/v1/blobs/not-a-hash', artifact)).json.error).toBe('bad_hash');
    expect(readdirSync(join(dir, 'blobs')).filter((d) => d !== 'tmp')).toEqual([]);
    expect(readdirSync(join(dir, 'blobs', 'tmp'))).toEqual([]);
    expect((await app.request(`/v1/blobs/${sha}`, { method: 'HEAD' })).status).toBe(404);
    // a submission before its artifact is uploaded: 422, naming what to do
    const early = await call('POST', '/v1/submissions', await signEnvelope(payload(), bob));
    expect(early).toMatchObject({ status: 422, json: { error: 'artifact_missing', message: expect.stringContaining(`PUT /v1/blobs/${sha}`) } });
    const ok = await call('PUT', `/v1/blobs/${sha}`, artifact, { 'content-type': 'application/octet-stream' });
    expect(ok).toMatchObject({ status: 201, json: { sha256: sha, bytes: 4096, existed: false } });
    expect((await call('PUT', `/v1/blobs/${sha}`, artifact)).json.existed).toBe(true);
    const back = await app.request(`/v1/blobs/${sha}`);
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(artifact);
  });

  it('malformed, empty, oversize and schema-invalid bodies: 400/413 with the reason', async () => {
    const bad = await call('POST', '/v1/submissions', '{"payload": ');
    expect(bad).toMatchObject({ status: 400, json: { error: 'malformed_json', message: expect.stringMatching(/^body is not valid JSON/) } });
    expect((await call('POST', '/v1/submissions', '')).json.error).toBe('malformed_json');
    const huge = await call('POST', '/v1/submissions', JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    expect(huge).toMatchObject({ status: 413, json: { error: 'too_large', message: 'body exceeds 65536 bytes' } });
    const deep = await call('POST', '/v1/submissions', `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(deep).toMatchObject({ status: 400, json: { error: 'too_deep', message: 'body nests deeper than 64 levels' } });
    const env = await signEnvelope(payload(), bob);
    const missing = structuredClone(env) as { payload: Partial<SubmissionPayload> };
    delete missing.payload.nonce;
    expect(await call('POST', '/v1/submissions', missing)).toMatchObject({ status: 400, json: { error: 'invalid', message: expect.stringMatching(/^invalid submission: payload\.nonce/) } });
    const extra = { ...env, payload: { ...env.payload, bonus: 1 } };
    expect((await call('POST', '/v1/submissions', extra)).json.message).toMatch(/unrecognized key.*bonus/i);
    const badConstraint = requestPayload({
      title: 't', base: { name: 'b', sha256: 'cd'.repeat(32), bytes: 1 }, constraints: [{ task: 'a', metric: 'acc', op: '>=', value: 1, fraction_of_base: 1 }],
      objective: { kind: 'smallest_bytes' }, bid: { amount: 1, currency: 'TAO' }, deadlineEpochs: 1, payout: [1],
    }, alice.address, clock);
    expect((await call('POST', '/v1/requests', await signEnvelope(badConstraint, alice))).json.message).toMatch(/constraints\.0.*exactly one of value or fraction_of_base/);
    const ramWithoutContext = requestPayload({
      title: 't', base: { name: 'b', sha256: 'cd'.repeat(32), bytes: 1 }, hardware: { maxRamBytes: 1_000_000 }, constraints: [],
      objective: { kind: 'smallest_bytes' }, bid: { amount: 1, currency: 'TAO' }, deadlineEpochs: 1, payout: [1],
    }, alice.address, clock);
    expect(await call('POST', '/v1/requests', await signEnvelope(ramWithoutContext, alice))).toMatchObject({
      status: 400, json: { error: 'invalid', message: expect.stringMatching(/hardware\.maxRamBytes needs hardware\.contextLength/) },
    });
    expect((await store.listRequests()).length).toBe(1);
    expect(await submissionsStored()).toBe(0);
  });

  it('forged signatures: 401', async () => {
    // signed by Eve, claiming to be Bob
    const forged = await signEnvelope(payload(), eve);
    expect(await call('POST', '/v1/submissions', forged)).toMatchObject({ status: 401, json: { error: 'bad_signature', message: expect.stringContaining(bob.address) } });
    // Bob's signature, payload changed afterwards (a better claim)
    const env = await signEnvelope(payload(), bob);
    env.payload.result.tasks[0].metrics.acc.value = 0.99;
    expect((await call('POST', '/v1/submissions', env)).status).toBe(401);
    // a garbage signature
    expect((await call('POST', '/v1/submissions', { ...env, signature: `0x${'11'.repeat(64)}` })).status).toBe(401);
    expect(await submissionsStored()).toBe(0);
  });

  it('wrong hashes and sizes, stale timestamps, unknown requests: 4xx', async () => {
    const otherHash = await signEnvelope(payload({ result: fakeResult({ artifactSha256: 'ee'.repeat(32) }) }), bob);
    expect(await call('POST', '/v1/submissions', otherHash)).toMatchObject({ status: 400, json: { error: 'hash_mismatch' } });
    const size = await signEnvelope(payload({ artifact: { sha256: sha, bytes: 4095, name: 'model.gguf' } }), bob);
    expect(await call('POST', '/v1/submissions', size)).toMatchObject({ status: 400, json: { error: 'size_mismatch', message: expect.stringMatching(/has 4096 bytes, the submission says 4095/) } });
    const stale = await signEnvelope(payload({ timestamp: clock - 3_600_000 }), bob);
    expect(await call('POST', '/v1/submissions', stale)).toMatchObject({ status: 400, json: { error: 'stale' } });
    const nowhere = await signEnvelope(payload({ requestId: 'ffffffffffffffff' }), bob);
    expect(await call('POST', '/v1/submissions', nowhere)).toMatchObject({ status: 404, json: { error: 'no_request' } });
    expect(await submissionsStored()).toBe(0);
  });

  it('accepts a valid submission once: a replay is 409, a copy under another key is a recorded duplicate', async () => {
    const env = await signEnvelope(payload(), bob);
    const ok = await call('POST', '/v1/submissions', env);
    expect(ok).toMatchObject({ status: 202, json: { status: 'pending', epoch: 0, ownership: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const replay = await call('POST', '/v1/submissions', env);
    expect(replay).toMatchObject({ status: 409, json: { error: 'replay', message: expect.stringContaining(`already used by ${bob.address}`) } });
    const copy = await signEnvelope({ ...env.payload, miner: eve.address, nonce: 'ab'.repeat(16) }, eve);
    const dup = await call('POST', '/v1/submissions', copy);
    expect(dup).toMatchObject({ status: 409, json: { error: 'duplicate', message: expect.stringContaining(`first submitted by ${bob.address} (submission ${ok.json.id}); earliest wins`) } });
    const stored = await call('GET', `/v1/submissions?request=${requestId}`);
    expect(stored.json.submissions.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([[ok.json.id, 'pending'], [dup.json.id, 'rejected']]);
    expect((await call('GET', `/v1/submissions/${dup.json.id}`)).json.verdict.reasons[0]).toMatch(/^duplicate artifact/);
  });

  it('404s name what is missing', async () => {
    expect(await call('GET', '/v1/submissions/0000000000000000')).toMatchObject({ status: 404, json: { error: 'no_submission' } });
    expect(await call('GET', '/v1/epochs/99')).toMatchObject({ status: 404, json: { error: 'no_epoch' } });
    expect(await call('GET', '/v1/nothing')).toMatchObject({ status: 404, json: { error: 'not_found' } });
    expect((await call('GET', '/v1/epochs/x')).status).toBe(400);
  });

  it('epochs: the clock advances, the seed is revealed on close, closing is idempotent, requests roll over then expire', async () => {
    const e0 = await call('GET', '/v1/epochs/current');
    expect(e0.json).toMatchObject({ index: 0, status: 'open', seed: null });
    clock += EPOCH; // time is up: the next read opens epoch 1, epoch 0 waits for the validator
    expect((await call('GET', '/v1/epochs/current')).json.index).toBe(1);
    expect((await call('GET', '/v1/epochs/0')).json.status).toBe('closing');

    const validator = new Validator(market, { data: dirSource(tmpdir()), library: loadTaskLibrary(), limit: 2 });
    const pass = await validator.runOnce();
    // the pending submission's bytes are no model: rejected with the loader's reason, not a crash
    expect(pass.verdicts).toHaveLength(1);
    expect(pass.verdicts[0]).toMatchObject({ status: 'rejected', reasons: [expect.stringMatching(/^artifact could not be measured: .*model\.gguf/)] });
    expect(pass.closed.map((e) => [e.index, e.results?.[0].status])).toEqual([[0, 'rolled_over']]);
    const closed = (await call('GET', '/v1/epochs/0')).json;
    expect(closed.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256OfBytes(new TextEncoder().encode(closed.seed))).toBe(closed.seedCommit);
    expect(closed.results[0].rejected).toHaveLength(2);
    expect((await validator.closeEpoch(0)).result).toEqual(closed.results); // idempotent
    expect((await validator.runOnce()).closed).toEqual([]);

    const forced = await validator.runOnce({ close: true }); // epoch 1 is the deadline
    expect(forced.closed.map((e) => [e.index, e.results?.[0].status])).toEqual([[1, 'expired']]);
    expect((await call('GET', `/v1/requests/${requestId}`)).json.status).toBe('expired');
    const late = await signEnvelope(payload({ nonce: 'cd'.repeat(16) }), bob);
    expect(await call('POST', '/v1/submissions', late)).toMatchObject({ status: 409, json: { error: 'request_closed' } });
    expect((await call('GET', '/v1/epochs')).json.epochs.map((e: { index: number; status: string }) => [e.index, e.status])).toEqual([[2, 'open'], [1, 'closed'], [0, 'closed']]);
  });
});
