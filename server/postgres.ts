// The Store on PostgreSQL (`pg`), for a market that outgrows one machine: the service and any number of
// validator processes share one database. Same migrations as SQLite (rewritten by migrate.ts), same columns,
// same operations; what SQLite gets from its single writer, PostgreSQL gets from row locks:
// - an epoch advances and closes once: the UPDATE ... WHERE status = <expected> takes the row lock, and a
//   second validator's identical UPDATE waits for it, re-reads the row and changes nothing (returns false);
// - a submission lands in the epoch that is open when it commits: it holds that epoch row FOR SHARE, so the
//   epoch cannot move to 'closing' underneath it (and the validator that closes it then sees it);
// - validators take pending submissions FOR UPDATE SKIP LOCKED, so no two measure the same one;
// - migrations run under an advisory lock, so processes starting together apply each file once.
import pg from 'pg';
import type { EpochRequestResult, Measured, Verdict } from '../src/market/schema';
import { migrations, MIGRATIONS_DIR, toPostgres } from './migrate';
import { epochOf, ledgerOf, requestOf, submissionOf, type Row } from './rows';
import {
  ReplayError, type EpochStatus, type InsertSubmissionOutcome, type LedgerEntry, type NewEpoch, type NewRequest, type NewSubmission,
  type RequestStatus, type Store, type SubmissionFilter,
} from './store';

/** Any value of pg_advisory_xact_lock's key space, fixed: "lab market migrations". */
const MIGRATION_LOCK = 0x6c61626d;

// BIGINT (times in ms, sequence numbers) as JS numbers: every value we store is below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

type Tx = pg.PoolClient;

export class PgStore implements Store {
  readonly pool: pg.Pool;

  constructor(readonly url: string, private readonly migrationsDir = MIGRATIONS_DIR, poolSize = 10) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, types });
    // an idle client losing its connection (the database restarting) must not crash the process
    this.pool.on('error', () => {});
  }

  private async rows(sql: string, args: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, args)).rows as Row[];
  }

  private async one(sql: string, args: unknown[] = []): Promise<Row | null> {
    return (await this.rows(sql, args))[0] ?? null;
  }

  /** Run `fn` in one transaction (READ COMMITTED; the locks named above do the rest). */
  private async tx<T>(fn: (c: Tx) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async migrate(): Promise<string[]> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const done = new Set((await c.query('SELECT name FROM schema_migrations')).rows.map((r) => r.name as string));
      const applied: string[] = [];
      for (const m of migrations(this.migrationsDir)) {
        if (done.has(m.name)) continue;
        await c.query(toPostgres(m.sql));
        await c.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [m.name, Date.now()]);
        applied.push(m.name);
      }
      return applied;
    });
  }

  async close() {
    await this.pool.end();
  }

  // epochs

  async openEpoch() {
    const r = await this.one(`SELECT * FROM epochs WHERE status = 'open'`);
    return r ? epochOf(r) : null;
  }

  async createFirstEpoch(e: NewEpoch) {
    // epoch 0 is the first: a second process racing here conflicts on its key (or on the one open epoch)
    const r = await this.pool.query(
      `INSERT INTO epochs (idx, seed, seed_commit, starts_at, ends_at, status)
       SELECT $1, $2, $3, $4, $5, 'open' WHERE NOT EXISTS (SELECT 1 FROM epochs) ON CONFLICT DO NOTHING`,
      [e.idx, e.seed, e.seedCommit, e.startsAt, e.endsAt]);
    return r.rowCount === 1;
  }

  async advanceEpoch(idx: number, endsAt: number, next: NewEpoch) {
    return this.tx(async (c) => {
      const r = await c.query(`UPDATE epochs SET status = 'closing', ends_at = $1 WHERE idx = $2 AND status = 'open'`, [endsAt, idx]);
      if (r.rowCount === 0) return false;
      await c.query(`INSERT INTO epochs (idx, seed, seed_commit, starts_at, ends_at, status) VALUES ($1, $2, $3, $4, $5, 'open')`,
        [next.idx, next.seed, next.seedCommit, next.startsAt, next.endsAt]);
      return true;
    });
  }

  async getEpoch(idx: number) {
    const r = await this.one('SELECT * FROM epochs WHERE idx = $1', [idx]);
    return r ? epochOf(r) : null;
  }

  async listEpochs(opts: { status?: EpochStatus; limit?: number } = {}) {
    const rows = opts.status
      ? await this.rows('SELECT * FROM epochs WHERE status = $1 ORDER BY idx DESC LIMIT $2', [opts.status, opts.limit ?? 100])
      : await this.rows('SELECT * FROM epochs ORDER BY idx DESC LIMIT $1', [opts.limit ?? 100]);
    return rows.map(epochOf);
  }

  async finishEpoch(idx: number, closedAt: number, result: EpochRequestResult[], requestStatus: Record<string, RequestStatus>) {
    return this.tx(async (c) => {
      const r = await c.query(`UPDATE epochs SET status = 'closed', closed_at = $1, result = $2 WHERE idx = $3 AND status = 'closing'`,
        [closedAt, JSON.stringify(result), idx]);
      if (r.rowCount === 0) return false;
      for (const [id, status] of Object.entries(requestStatus)) {
        await c.query(`UPDATE requests SET status = $1 WHERE id = $2 AND status = 'open'`, [status, id]);
      }
      return true;
    });
  }

  // requests

  private async useNonce(c: Tx, signer: string, nonce: string, kind: string, at: number) {
    // ON CONFLICT keeps the transaction usable; a conflict is a replay
    const r = await c.query('INSERT INTO nonces (signer, nonce, kind, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [signer, nonce, kind, at]);
    if (r.rowCount === 0) throw new ReplayError(signer, nonce);
  }

  async nonceUsed(signer: string, nonce: string) {
    return (await this.one('SELECT 1 FROM nonces WHERE signer = $1 AND nonce = $2', [signer, nonce])) !== null;
  }

  async insertRequest(r: NewRequest, epoch: number) {
    await this.tx(async (c) => {
      await this.useNonce(c, r.buyer, r.nonce, 'request', r.createdAt);
      await c.query(`INSERT INTO requests (id, buyer, payload, signature, opened_epoch, status, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6)`,
        [r.id, r.buyer, r.payload, r.signature, epoch, r.createdAt]);
    });
  }

  async getRequest(id: string) {
    const r = await this.one('SELECT * FROM requests WHERE id = $1', [id]);
    return r ? requestOf(r) : null;
  }

  async listRequests(opts: { status?: RequestStatus; limit?: number } = {}) {
    const rows = opts.status
      ? await this.rows('SELECT * FROM requests WHERE status = $1 ORDER BY seq DESC LIMIT $2', [opts.status, opts.limit ?? 100])
      : await this.rows('SELECT * FROM requests ORDER BY seq DESC LIMIT $1', [opts.limit ?? 100]);
    return rows.map(requestOf);
  }

  // submissions

  async insertSubmission(s: NewSubmission): Promise<InsertSubmissionOutcome> {
    return this.tx(async (c): Promise<InsertSubmissionOutcome> => {
      const open = await this.shareOpenEpoch(c);
      await this.useNonce(c, s.miner, s.nonce, 'submission', s.receivedAt);
      await c.query('INSERT INTO artifacts (sha256, owner, ownership, first_submission, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [s.artifactSha256, s.miner, s.ownership, s.id, s.receivedAt]);
      const owner = (await c.query('SELECT owner, first_submission FROM artifacts WHERE sha256 = $1', [s.artifactSha256])).rows[0] as Row;
      const duplicate = owner.owner !== s.miner;
      await c.query(`INSERT INTO submissions (id, request_id, epoch, miner, artifact_sha256, ownership, payload, signature, received_at, status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [s.id, s.requestId, open, s.miner, s.artifactSha256, s.ownership, s.payload, s.signature, s.receivedAt, duplicate ? 'rejected' : 'pending']);
      return duplicate
        ? { kind: 'duplicate', epoch: open, owner: owner.owner as string, firstSubmission: owner.first_submission as string }
        : { kind: 'pending', epoch: open };
    });
  }

  /** The open epoch's index, its row held FOR SHARE until the transaction ends. */
  private async shareOpenEpoch(c: Tx): Promise<number> {
    // Under READ COMMITTED a statement that waited for an advance in flight re-checks the row it waited on (now
    // 'closing') and cannot see the new open row, committed after its snapshot: it finds nothing. The next
    // statement takes a fresh snapshot and does; a third try covers a second advance in between.
    for (let attempt = 0; attempt < 3; attempt++) {
      const idx = (await c.query(`SELECT idx FROM epochs WHERE status = 'open' FOR SHARE`)).rows[0]?.idx as number | undefined;
      if (idx !== undefined) return idx;
    }
    throw new Error('no open epoch');
  }

  async getSubmission(id: string) {
    const r = await this.one('SELECT * FROM submissions WHERE id = $1', [id]);
    return r ? submissionOf(r) : null;
  }

  async listSubmissions(f: SubmissionFilter = {}) {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (col: string, v: unknown) => (args.push(v), where.push(`${col} = $${args.length}`));
    if (f.requestId !== undefined) add('request_id', f.requestId);
    if (f.miner !== undefined) add('miner', f.miner);
    if (f.epoch !== undefined) add('epoch', f.epoch);
    if (f.status !== undefined) add('status', f.status);
    args.push(f.limit ?? 1000);
    const sql = `SELECT * FROM submissions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${args.length}`;
    return (await this.rows(sql, args)).map(submissionOf);
  }

  async claimPending(now: number, staleBefore: number, limit: number, epoch?: number) {
    return this.tx(async (c) => {
      // staleBefore may be +Infinity ("take every claim"), which BIGINT cannot hold
      const args: unknown[] = [Math.min(staleBefore, Number.MAX_SAFE_INTEGER), limit];
      if (epoch !== undefined) args.push(epoch);
      const rows = (await c.query(`SELECT * FROM submissions
          WHERE (status = 'pending' OR (status = 'validating' AND claimed_at < $1)) ${epoch === undefined ? '' : 'AND epoch = $3'}
          ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`, args)).rows as Row[];
      if (rows.length) await c.query(`UPDATE submissions SET status = 'validating', claimed_at = $1 WHERE id = ANY($2)`, [now, rows.map((r) => r.id)]);
      return rows.map((r) => ({ ...submissionOf(r), status: 'validating' as const, claimedAt: now }));
    });
  }

  async setVerdict(id: string, v: Verdict) {
    await this.pool.query('UPDATE submissions SET status = $1, verdict = $2, score = $3, over_claim = $4, claimed_at = NULL WHERE id = $5',
      [v.status, JSON.stringify(v), v.score, v.overClaim ? 1 : 0, id]);
  }

  async getBaseMeasurement(epoch: number, requestId: string) {
    const r = await this.one('SELECT measured FROM base_measurements WHERE epoch = $1 AND request_id = $2', [epoch, requestId]);
    return r ? (JSON.parse(r.measured as string) as Measured) : null;
  }

  async putBaseMeasurement(epoch: number, requestId: string, measured: Measured, at: number) {
    await this.pool.query(`INSERT INTO base_measurements (epoch, request_id, measured, at) VALUES ($1, $2, $3, $4)
                           ON CONFLICT (epoch, request_id) DO UPDATE SET measured = EXCLUDED.measured, at = EXCLUDED.at`,
      [epoch, requestId, JSON.stringify(measured), at]);
  }

  async recordLedger(e: LedgerEntry) {
    const r = await this.pool.query('INSERT INTO ledger (epoch, kind, chain, payload, receipt, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [e.epoch, e.kind, e.chain, JSON.stringify(e.payload), e.receipt, e.at]);
    return r.rowCount === 1;
  }

  async listLedger(opts: { epoch?: number; limit?: number } = {}) {
    const rows = opts.epoch === undefined
      ? await this.rows('SELECT * FROM ledger ORDER BY epoch DESC, kind LIMIT $1', [opts.limit ?? 100])
      : await this.rows('SELECT * FROM ledger WHERE epoch = $1 ORDER BY kind LIMIT $2', [opts.epoch, opts.limit ?? 100]);
    return rows.map(ledgerOf);
  }
}
