// Crash safety with real processes: `lab serve` (1.5 s epochs, its validator every 300 ms) takes a stream of
// signed submissions and is killed with SIGKILL at a random moment, again and again, then restarted on the same
// database. After every restart: each submission that got a 2xx is stored, and no closed epoch has changed
// (closing happens once: its time, results and seed stay what they were). At the end every epoch closed
// while submissions arrived lists exactly its submissions. On SQLite and on PostgreSQL.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { requestPayload, signEnvelope, submissionPayload, type Signer } from '../../src/market/payload';
import { keyFromUri } from '../../src/market/signing';
import { PgStore } from '../../server/postgres';
import { SqliteStore } from '../../server/sqlite';
import type { EpochRow, Store } from '../../server/store';
import { describeEachBackend, freshDatabaseUrl } from './backends';
import { serveLab, stopLab, type LabService } from './lab-process';
import { fakeResult } from './market-fixtures';

const RESTARTS = Number(process.env.CRASH_RESTARTS ?? 2);
const CONCURRENCY = 8;

describeEachBackend('crash safety: SIGKILL while submissions arrive and epochs close', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'market-crash-'));
  const db = join(dir, 'market.sqlite');
  const data = join(dir, 'data');
  let databaseUrl: string | undefined;
  let running: LabService | undefined;

  const openStore = (): Store => (databaseUrl ? new PgStore(databaseUrl) : new SqliteStore(db));

  function serve(): Promise<LabService> {
    const args = ['--db', db, '--data', data, '--epoch', '1500ms', '--validate-every', '300ms', '--limit', '1', '--rate-limit', '0'];
    if (databaseUrl) args.push('--database-url', databaseUrl);
    return serveLab(args, 60_000);
  }

  const kill = (r: LabService | undefined) => stopLab(r, 'SIGKILL');

  beforeAll(async () => {
    mkdirSync(data);
    if (backend === 'postgresql') databaseUrl = await freshDatabaseUrl();
  });

  afterAll(async () => {
    if (running) await kill(running);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ${RESTARTS} SIGKILLs with no accepted submission lost and no epoch closed twice`, async () => {
    const [alice, bob] = await Promise.all(['//Alice', '//Bob'].map(keyFromUri));
    const artifact = new TextEncoder().encode('these bytes are not a model; the validator rejects them with a reason');
    const sha = sha256OfBytes(artifact);
    const accepted = new Set<string>();
    const seenClosed = new Map<number, EpochRow>();
    let requestId = '';
    let attempts = 0, unanswered = 0, interruptedCloses = 0, closesWitnessed = 0;

    /** Closed epochs must never change once seen closed; returns how many were checked. */
    async function checkStore(): Promise<Store> {
      const store = openStore();
      const stored = new Set((await store.listSubmissions({ limit: 1_000_000 })).map((s) => s.id));
      const lost = [...accepted].filter((id) => !stored.has(id));
      expect(lost, `accepted submissions lost after a SIGKILL`).toEqual([]);
      const epochs = await store.listEpochs({ limit: 100_000 });
      expect(epochs.map((e) => e.idx)).toEqual(epochs.map((_, i) => epochs.length - 1 - i)); // 0..n, each once
      expect(epochs.filter((e) => e.status === 'open').length).toBe(1);
      interruptedCloses += epochs.filter((e) => e.status === 'closing').length;
      for (const e of epochs.filter((x) => x.status === 'closed')) {
        const before = seenClosed.get(e.idx);
        if (before) expect(e, `epoch ${e.idx} was closed again`).toEqual(before);
        else seenClosed.set(e.idx, e);
      }
      return store;
    }

    const submitOne = async (url: string, signer: Signer) => {
      const p = submissionPayload({
        requestId, artifact: { sha256: sha, bytes: artifact.length, name: 'm.gguf' }, miner: signer.address,
        result: fakeResult({ artifactSha256: sha, tasks: [], cost: { ...fakeResult().cost, bytesOnDisk: artifact.length } }),
      });
      const env = await signEnvelope(p, signer);
      attempts++;
      try {
        const r = await fetch(`${url}/v1/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(env) });
        const j = (await r.json()) as { id: string; error?: string };
        if (r.status === 202) accepted.add(j.id);
        else throw new Error(`HTTP ${r.status}: ${JSON.stringify(j)}`);
      } catch (e) {
        if ((e as Error).message.startsWith('HTTP')) throw e;
        unanswered++; // the process died with the request in flight: no answer, so no promise was made
      }
    };

    const t0 = performance.now();
    for (let round = 0; round <= RESTARTS; round++) {
      running = await serve();
      const url = running.url;
      if (round === 0) {
        const req = requestPayload({
          title: 'crash', base: { name: 'b.gguf', sha256: 'cd'.repeat(32), bytes: 10_000 }, constraints: [],
          objective: { kind: 'smallest_bytes' }, bid: { amount: 1, currency: 'TAO' }, deadlineEpochs: 10_000, payout: [1],
        }, alice.signer.address);
        const r = await fetch(`${url}/v1/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await signEnvelope(req, alice.signer)) });
        const posted = (await r.json()) as { id: string };
        expect(r.status, JSON.stringify(posted)).toBe(201);
        requestId = posted.id;
        expect((await fetch(`${url}/v1/blobs/${sha}`, { method: 'PUT', body: artifact })).status).toBe(201);
      }
      if (round === RESTARTS) break; // the last start only proves the restart; the checks below read the store
      // submissions stream in from CONCURRENCY clients until the kill, at a random moment 0.4..2.4 s after start
      const killAt = 400 + Math.random() * 2000;
      let dead = false;
      const clients = Array.from({ length: CONCURRENCY }, async () => {
        try {
          while (!dead) await submitOne(url, bob.signer);
        } finally {
          dead = true; // an unexpected answer stops every client (and fails the test below)
        }
      });
      await new Promise((ok) => setTimeout(ok, killAt));
      await kill(running);
      dead = true;
      await Promise.all(clients);
      const store = await checkStore();
      closesWitnessed = 0;
      await store.close();
    }

    // the last service runs its validator: let it close the epochs the kills left 'closing', then stop it for good
    let store = await checkStore();
    for (const until = performance.now() + 15_000; performance.now() < until;) {
      if ((await store.listEpochs({ status: 'closing' })).length === 0) break;
      await new Promise((ok) => setTimeout(ok, 200));
    }
    await kill(running);
    running = undefined;
    await store.close();
    store = await checkStore();

    // every closed epoch names exactly its own submissions (all rejected: the bytes are no model)
    const subs = await store.listSubmissions({ limit: 1_000_000 });
    for (const e of await store.listEpochs({ status: 'closed', limit: 100_000 })) {
      const mine = subs.filter((s) => s.epoch === e.idx).map((s) => s.id).sort();
      const listed = (e.result ?? []).flatMap((r) => r.rejected.map((x) => x.submissionId)).sort();
      expect(listed, `epoch ${e.idx}'s results`).toEqual(mine);
      if (mine.length) closesWitnessed++;
    }
    await store.close();
    const line = `crash (${backend}): ${RESTARTS} SIGKILLs survived, ${attempts} submissions sent, ${accepted.size} accepted (2xx), ` +
      `${unanswered} cut off unanswered, losses 0, epochs seen closing at a kill ${interruptedCloses}, ${seenClosed.size} epochs closed (each once), ` +
      `${closesWitnessed} of them with submissions, ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    console.log(line);
    expect(accepted.size).toBeGreaterThan(RESTARTS * 10);
    expect(seenClosed.size).toBeGreaterThan(0);
  });
});
