// A submission whose transaction waits on an epoch advance in flight (another process holds the open epoch's
// row lock) must land in the epoch the advance opens, not fail with "no open epoch": READ COMMITTED re-checks
// the old row it waited on (now 'closing') and cannot see the new open row committed after its snapshot.
// The advance is held open on a second connection, so the interleaving is certain, not a matter of timing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../server/postgres';
import { freshDatabaseUrl, postgres } from './backends';
import { pgUnavailable } from './postgres';

if (pgUnavailable) console.warn(`SKIPPED "a submission racing an epoch advance [postgresql]": ${pgUnavailable}`);
else postgres(); // the server starts on first use and stops after this file; its hook first, before the suite's

describe.skipIf(pgUnavailable !== null)('a submission racing an epoch advance [postgresql]', () => {
  let store: PgStore;
  let other: pg.Client;

  beforeAll(async () => {
    const url = await freshDatabaseUrl();
    store = new PgStore(url);
    await store.migrate();
    other = new pg.Client({ connectionString: url });
    await other.connect();
  });

  afterAll(async () => {
    await other?.end();
    await store?.close();
  });

  it('waits for the advance and lands in the epoch it opens', async () => {
    const epoch = (idx: number) => ({ idx, seed: `seed${idx}`, seedCommit: `commit${idx}`, startsAt: idx * 1000, endsAt: idx * 1000 + 1000 });
    expect(await store.createFirstEpoch(epoch(0))).toBe(true);
    await store.insertRequest({ id: 'r1', buyer: 'alice', payload: '{}', signature: 'sig', createdAt: 1, nonce: 'n-r1' }, 0);

    // what advanceEpoch does, held uncommitted on another connection
    await other.query('BEGIN');
    await other.query(`UPDATE epochs SET status = 'closing' WHERE idx = 0 AND status = 'open'`);
    const next = epoch(1);
    await other.query(`INSERT INTO epochs (idx, seed, seed_commit, starts_at, ends_at, status) VALUES ($1, $2, $3, $4, $5, 'open')`,
      [next.idx, next.seed, next.seedCommit, next.startsAt, next.endsAt]);

    const landed = store.insertSubmission({
      id: 's1', requestId: 'r1', miner: 'bob', artifactSha256: 'ab'.repeat(32), ownership: 'own', payload: '{}', signature: 'sig',
      receivedAt: 2, nonce: 'n-s1',
    });
    landed.catch(() => {}); // awaited below; must not be an unhandled rejection while we wait

    // the submission's transaction is blocked on the epoch row lock before the advance commits
    const waiting = async () => (await other.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).rows[0].n as number;
    for (const until = Date.now() + 10_000; (await waiting()) === 0;) {
      if (Date.now() > until) throw new Error('the submission never waited on the epoch row lock');
      await new Promise((ok) => setTimeout(ok, 20));
    }
    await other.query('COMMIT');

    expect(await landed).toEqual({ kind: 'pending', epoch: 1 });
    expect((await store.getSubmission('s1'))?.epoch).toBe(1);
  });
});
