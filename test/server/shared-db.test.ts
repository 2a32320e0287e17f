// Several validators on one database (each with its own connection, as separate processes have): the epoch
// advances once, closes once, and every submission is validated exactly once, on SQLite and on PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dirSource } from '../../node/data-source';
import { loadTaskLibrary } from '../../node/tasks';
import { sha256OfBytes } from '../../src/io/hash';
import { requestPayload, signEnvelope, submissionPayload } from '../../src/market/payload';
import { keyFromUri } from '../../src/market/signing';
import { BlobStore } from '../../server/blobs';
import { Market } from '../../server/market';
import type { Store } from '../../server/store';
import { Validator } from '../../server/validator';
import { describeEachBackend, openTestStore, reopen } from './backends';
import { fakeResult } from './market-fixtures';

const VALIDATORS = 4;
const SUBMISSIONS = 12;

describeEachBackend('several validators share one database', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'market-shared-'));
  const blobs = new BlobStore(join(dir, 'blobs'));
  const stores: Store[] = [];
  const markets: Market[] = [];
  let clock = 1_800_000_000_000;

  beforeAll(async () => {
    const first = await openTestStore(backend, dir);
    await first.migrate();
    stores.push(first);
    for (let i = 1; i < VALIDATORS; i++) stores.push(reopen(first));
    await Promise.all(stores.map((s) => s.migrate())); // racing migrations apply nothing twice
    for (const s of stores) markets.push(new Market(s, blobs, { epochMs: 60_000, now: () => clock }));
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('racing advances and closes change the epoch once; racing claims validate each submission once', async () => {
    const [alice, ...miners] = await Promise.all(['//Alice', ...Array.from({ length: SUBMISSIONS }, (_, i) => `//miner${i}`)].map(keyFromUri));
    await Promise.all(markets.map((m) => m.currentEpoch())); // all create epoch 0 at once: one wins
    const req = requestPayload({
      title: 't', base: { name: 'b.gguf', sha256: 'cd'.repeat(32), bytes: 10_000 }, constraints: [], objective: { kind: 'smallest_bytes' },
      bid: { amount: 1, currency: 'TAO' }, deadlineEpochs: 1, payout: [1],
    }, alice.signer.address, clock);
    const { id: requestId } = await markets[0].postRequest(await signEnvelope(req, alice.signer));
    // submissions arrive through different service instances; the bytes are no model (rejected, quickly, with a reason)
    await Promise.all(miners.map(async ({ signer }, i) => {
      const bytes = new TextEncoder().encode(`not a model ${i}`);
      const sha = sha256OfBytes(bytes);
      await blobs.put(sha, (async function* () { yield bytes; })(), 1024);
      const p = submissionPayload({
        requestId, artifact: { sha256: sha, bytes: bytes.length, name: 'm.gguf' }, miner: signer.address, now: clock,
        result: fakeResult({ artifactSha256: sha, cost: { ...fakeResult().cost, bytesOnDisk: bytes.length } }),
      });
      await markets[i % VALIDATORS].submit(await signEnvelope(p, signer));
    }));
    expect((await stores[0].listSubmissions()).length).toBe(SUBMISSIONS);

    clock += 60_000;
    const validators = markets.map((m) => new Validator(m, { data: dirSource(tmpdir()), library: loadTaskLibrary(), limit: 1 }));
    const passes = await Promise.all(validators.map((v) => v.runOnce()));
    const verdicts = passes.flatMap((p) => p.verdicts.map((v) => v.submissionId)).sort();
    console.log(`${backend}: ${VALIDATORS} validators, ${SUBMISSIONS} submissions: verdicts per validator ${passes.map((p) => p.verdicts.length).join('/')}, epochs ${(await stores[0].listEpochs()).map((e) => `${e.idx}:${e.status}`).join(' ')}`);
    expect(verdicts).toEqual((await stores[0].listSubmissions()).map((s) => s.id).sort()); // each exactly once
    const epochs = await stores[0].listEpochs();
    expect(epochs.map((e) => [e.idx, e.status])).toEqual([[1, 'open'], [0, 'closed']]);
    const closedBy = passes.filter((p) => p.closed.length).map((p) => p.closed[0]);
    expect(closedBy.length).toBeGreaterThan(0);
    for (const c of closedBy) expect(c).toEqual(closedBy[0]); // whoever lost the race reports the one stored close
    expect(closedBy[0].results![0]).toMatchObject({ requestId, status: 'expired', winner: null });
    expect(closedBy[0].results![0].rejected).toHaveLength(SUBMISSIONS);

    // the store contract directly: of N racing advances and finishes of one epoch, exactly one succeeds
    const next = (idx: number) => ({ idx, seed: 's', seedCommit: 'c', startsAt: clock, endsAt: clock + 1 });
    const advanced = await Promise.all(stores.map((s) => s.advanceEpoch(1, clock, next(2))));
    expect(advanced.filter(Boolean)).toHaveLength(1);
    const finished = await Promise.all(stores.map((s, i) => s.finishEpoch(1, clock + i, [], {})));
    expect(finished.filter(Boolean)).toHaveLength(1);
    expect((await stores[0].listEpochs()).map((e) => [e.idx, e.status])).toEqual([[2, 'open'], [1, 'closed'], [0, 'closed']]);
  });
});
