// Load and rate limiting. A bounded loopback load test: `lab serve` as its own process, 500 pre-signed
// submissions from 50 miners posted over 500 concurrent connections by autocannon; every one is answered
// 202 and stored (nothing lost); throughput and p99 latency are printed. Then one key floods the same service
// past its per-key limit: the excess gets 429 with the reason and Retry-After, the rest is stored. The
// limiter's rules (who is charged, when) are checked in process with a controlled clock.
import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { requestPayload, signEnvelope, submissionPayload, type Signer } from '../../src/market/payload';
import { keyFromUri } from '../../src/market/signing';
import { createApp } from '../../server/app';
import { BlobStore } from '../../server/blobs';
import { Market } from '../../server/market';
import { parseRateLimit } from '../../server/rate-limit';
import { SqliteStore } from '../../server/sqlite';
import { serveLab, stopLab, type LabService } from './lab-process';
import { fakeResult } from './market-fixtures';

const MINERS = 50;
const PER_MINER = 10;
const FLOOD = 200;
const JSON_HEADERS = { 'content-type': 'application/json' };

const request = (buyer: Signer, now = Date.now()) => requestPayload({
  title: 'load', base: { name: 'b.gguf', sha256: 'cd'.repeat(32), bytes: 10_000 }, constraints: [],
  objective: { kind: 'smallest_bytes' }, bid: { amount: 1, currency: 'USD' }, deadlineEpochs: 10, payout: [1],
}, buyer.address, now);

/** A submission by `miner` of its own artifact (so nobody's is a duplicate of another's). */
async function signedSubmission(requestId: string, miner: Signer, artifact: Uint8Array, now = Date.now()) {
  const sha = sha256OfBytes(artifact);
  return signEnvelope(submissionPayload({
    requestId, artifact: { sha256: sha, bytes: artifact.length, name: 'm.gguf' }, miner: miner.address, now,
    result: fakeResult({ artifactSha256: sha, tasks: [], cost: { ...fakeResult().cost, bytesOnDisk: artifact.length } }),
  }), miner);
}

const artifactOf = (i: number) => new TextEncoder().encode(`artifact of miner ${i}`);

describe('per-key rate limit (in process, controlled clock)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-rate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('429 with the reason and Retry-After past the burst; refills; forged and replayed bodies are not charged', async () => {
    expect(parseRateLimit('120/min')).toEqual({ perMinute: 120, burst: 120 });
    expect(parseRateLimit('5/s')).toEqual({ perMinute: 300, burst: 5 });
    expect(parseRateLimit('0')).toBeNull();
    expect(() => parseRateLimit('lots')).toThrow(/not N\/min/);

    let clock = 1_800_000_000_000;
    const store = new SqliteStore(join(dir, 'm.sqlite'));
    await store.migrate();
    const blobs = new BlobStore(join(dir, 'blobs'));
    const market = new Market(store, blobs, { epochMs: 3_600_000, rateLimit: { perMinute: 6, burst: 3 }, now: () => clock });
    const app = createApp(market);
    const [alice, bob, carol, eve] = (await Promise.all(['//Alice', '//Bob', '//Carol', '//Eve'].map(keyFromUri))).map((k) => k.signer);
    const { id: requestId } = await market.postRequest(await signEnvelope(request(alice, clock), alice));
    for (const i of [1, 2]) await blobs.put(sha256OfBytes(artifactOf(i)), (async function* () { yield artifactOf(i); })(), 1024);
    const post = async (body: unknown) => {
      const r = await app.request('/v1/submissions', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
      return { status: r.status, retryAfter: r.headers.get('retry-after'), json: (await r.json()) as Record<string, any> };
    };

    // a forged body naming Bob (signed by Eve): 401, and Bob's budget is untouched
    const forged = await signedSubmission(requestId, eve, artifactOf(1), clock);
    expect((await post({ ...forged, payload: { ...forged.payload, miner: bob.address } })).status).toBe(401);
    const bobs = await Promise.all(Array.from({ length: 5 }, () => signedSubmission(requestId, bob, artifactOf(1), clock)));
    const answers = [];
    for (const env of bobs) answers.push(await post(env));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429, 429]);
    expect(answers[3]).toMatchObject({
      retryAfter: '10',
      json: { error: 'rate_limited', retryAfterSeconds: 10, message: `rate limit: ${bob.address} may make 6 signed writes per minute (bursts of 3); retry in 10 s` },
    });
    // another key is not affected; a replay of Bob's accepted envelope is refused as a replay and costs nothing
    expect((await post(await signedSubmission(requestId, carol, artifactOf(2), clock))).status).toBe(202);
    clock += 10_000; // one token back
    expect((await post(bobs[0])).json.error).toBe('replay');
    expect((await post(bobs[3])).status).toBe(202);
    expect((await post(bobs[4])).status).toBe(429);
    expect((await store.listSubmissions()).length).toBe(5); // Bob 3 + 1 after the refill, Carol 1
    await store.close();
  });
});

describe('load: 500 concurrent signed submissions over loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-load-'));
  let service: LabService | undefined;
  let url = '';

  beforeAll(async () => {
    mkdirSync(join(dir, 'data'));
    service = await serveLab(['--db', join(dir, 'm.sqlite'), '--data', join(dir, 'data'), '--epoch', '1h', '--validate-every', '0', '--rate-limit', '120/min']);
    url = service.url;
  });

  afterAll(async () => {
    await stopLab(service);
    rmSync(dir, { recursive: true, force: true });
  });

  /** POST every body once over `connections` connections; the ids of the 202s and the count per status. */
  async function blast(bodies: string[], connections: number) {
    let next = 0;
    const accepted: string[] = [];
    const statuses: Record<number, number> = {};
    const reasons = new Set<string>();
    const result = await autocannon({
      url, connections, amount: bodies.length, timeout: 60,
      requests: [{
        method: 'POST', path: '/v1/submissions', headers: JSON_HEADERS,
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
        onResponse: (status, body) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          const j = JSON.parse(body);
          if (status === 202) accepted.push(j.id);
          else reasons.add(`${status} ${j.error}: ${j.message.replace(/[1-9A-HJ-NP-Za-km-z]{47,48}/, '<key>').replace(/\d+ s$/, 'N s')}`);
        },
      }],
    });
    return { result, accepted, statuses, reasons };
  }

  it('every submission answered and stored; throughput and p99; a flooding key is limited, others are not', async () => {
    const [alice, ...miners] = (await Promise.all(['//Alice', ...Array.from({ length: MINERS + 1 }, (_, i) => `//load-miner-${i}`)].map(keyFromUri))).map((k) => k.signer);
    const flooder = miners.pop()!;
    const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    const { id: requestId } = (await (await post('/v1/requests', await signEnvelope(request(alice), alice))).json()) as { id: string };
    await Promise.all([...miners, flooder].map(async (_, i) => {
      const a = artifactOf(i);
      expect((await fetch(`${url}/v1/blobs/${sha256OfBytes(a)}`, { method: 'PUT', body: a })).status).toBe(201);
    }));
    // pre-signed: the load measures the service, not the signing
    const bodies = (await Promise.all(miners.flatMap((m, i) => Array.from({ length: PER_MINER }, () => signedSubmission(requestId, m, artifactOf(i))))))
      .map((e) => JSON.stringify(e));

    const load = await blast(bodies, bodies.length);
    const stored = async () => ((await (await fetch(`${url}/v1/submissions?limit=100000`)).json()) as { submissions: { id: string }[] }).submissions.map((s) => s.id);
    const held = new Set(await stored());
    const lost = load.accepted.filter((id) => !held.has(id));
    const r = load.result;
    console.log(`load: ${bodies.length} submissions over ${bodies.length} concurrent connections: ${load.accepted.length} accepted (202), ` +
      `${held.size} held in the store, losses ${lost.length}; ${(bodies.length / r.duration).toFixed(0)} req/s over ${r.duration.toFixed(2)} s, ` +
      `latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; errors ${r.errors}, timeouts ${r.timeouts}`);
    expect(load.statuses).toEqual({ 202: bodies.length });
    expect(r.errors + r.timeouts).toBe(0);
    expect(lost).toEqual([]);
    expect(held.size).toBe(bodies.length);

    // one key floods: 120/min with bursts of 120; the rest of its writes are refused with the reason
    const flood = (await Promise.all(Array.from({ length: FLOOD }, () => signedSubmission(requestId, flooder, artifactOf(MINERS))))).map((e) => JSON.stringify(e));
    const f = await blast(flood, 50);
    const heldAfter = new Set(await stored());
    console.log(`rate limit: one key sent ${FLOOD}: ${f.accepted.length} accepted, ${f.statuses[429] ?? 0} refused 429 (${[...f.reasons].join('; ')}); ` +
      `held ${heldAfter.size - held.size}, losses ${f.accepted.filter((id) => !heldAfter.has(id)).length}`);
    expect(f.accepted.length).toBeGreaterThanOrEqual(120);
    expect(f.accepted.length).toBeLessThan(130); // the burst, plus what refills (2/s) while the flood runs
    expect(f.statuses[429]).toBe(FLOOD - f.accepted.length);
    expect([...f.reasons]).toEqual([`429 rate_limited: rate limit: <key> may make 120 signed writes per minute (bursts of 120); retry in N s`]);
    expect(heldAfter.size - held.size).toBe(f.accepted.length);
  });
});
