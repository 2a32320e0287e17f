// The Store on SQLite (better-sqlite3 12.x): WAL journal, so the service and a `lab validate` process can share
// one file; migrations are the numbered SQL files of server/migrations, applied once each, in order.
import Database from 'better-sqlite3';
import type { EpochRequestResult, Measured, Verdict } from '../src/market/schema';
import { MIGRATIONS_DIR, migrations } from './migrate';
import { epochOf, ledgerOf, requestOf, submissionOf, type Row } from './rows';
import {
  ReplayError, type EpochStatus, type InsertSubmissionOutcome, type LedgerEntry, type NewEpoch, type NewRequest, type NewSubmission,
  type RequestStatus, type Store, type SubmissionFilter,
} from './store';

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

export class SqliteStore implements Store {
  readonly db: Database.Database;

  constructor(readonly path: string, private readonly migrationsDir = MIGRATIONS_DIR) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // a validator process and the service write the same file: wait for the other's transaction
    this.db.pragma('busy_timeout = 10000');
  }

  async migrate(): Promise<string[]> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set(this.db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[]);
    const applied: string[] = [];
    for (const m of migrations(this.migrationsDir)) {
      if (done.has(m.name)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(m.name, Date.now());
      }).immediate();
      applied.push(m.name);
    }
    return applied;
  }

  async close() {
    if (this.db.open) this.db.close();
  }

  // epochs

  async openEpoch() {
    const r = this.db.prepare(`SELECT * FROM epochs WHERE status = 'open'`).get() as Row | undefined;
    return r ? epochOf(r) : null;
  }

  async createFirstEpoch(e: NewEpoch) {
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM epochs LIMIT 1').get()) return false;
      this.insertEpoch(e);
      return true;
    }).immediate();
  }

  private insertEpoch(e: NewEpoch) {
    this.db.prepare(`INSERT INTO epochs (idx, seed, seed_commit, starts_at, ends_at, status) VALUES (?, ?, ?, ?, ?, 'open')`)
      .run(e.idx, e.seed, e.seedCommit, e.startsAt, e.endsAt);
  }

  async advanceEpoch(idx: number, endsAt: number, next: NewEpoch) {
    return this.db.transaction(() => {
      const r = this.db.prepare(`UPDATE epochs SET status = 'closing', ends_at = ? WHERE idx = ? AND status = 'open'`).run(endsAt, idx);
      if (r.changes === 0) return false;
      this.insertEpoch(next);
      return true;
    }).immediate();
  }

  async getEpoch(idx: number) {
    const r = this.db.prepare('SELECT * FROM epochs WHERE idx = ?').get(idx) as Row | undefined;
    return r ? epochOf(r) : null;
  }

  async listEpochs(opts: { status?: EpochStatus; limit?: number } = {}) {
    const rows = opts.status
      ? this.db.prepare('SELECT * FROM epochs WHERE status = ? ORDER BY idx DESC LIMIT ?').all(opts.status, opts.limit ?? 100)
      : this.db.prepare('SELECT * FROM epochs ORDER BY idx DESC LIMIT ?').all(opts.limit ?? 100);
    return (rows as Row[]).map(epochOf);
  }

  async finishEpoch(idx: number, closedAt: number, result: EpochRequestResult[], requestStatus: Record<string, RequestStatus>) {
    return this.db.transaction(() => {
      const r = this.db.prepare(`UPDATE epochs SET status = 'closed', closed_at = ?, result = ? WHERE idx = ? AND status = 'closing'`)
        .run(closedAt, JSON.stringify(result), idx);
      if (r.changes === 0) return false;
      const set = this.db.prepare(`UPDATE requests SET status = ? WHERE id = ? AND status = 'open'`);
      for (const [id, status] of Object.entries(requestStatus)) set.run(status, id);
      return true;
    }).immediate();
  }

  // requests

  private useNonce(signer: string, nonce: string, kind: string, at: number) {
    try {
      this.db.prepare('INSERT INTO nonces (signer, nonce, kind, at) VALUES (?, ?, ?, ?)').run(signer, nonce, kind, at);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ReplayError(signer, nonce);
      throw e;
    }
  }

  async nonceUsed(signer: string, nonce: string) {
    return this.db.prepare('SELECT 1 FROM nonces WHERE signer = ? AND nonce = ?').get(signer, nonce) !== undefined;
  }

  async insertRequest(r: NewRequest, epoch: number) {
    this.db.transaction(() => {
      this.useNonce(r.buyer, r.nonce, 'request', r.createdAt);
      this.db.prepare(`INSERT INTO requests (id, buyer, payload, signature, opened_epoch, status, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?)`)
        .run(r.id, r.buyer, r.payload, r.signature, epoch, r.createdAt);
    }).immediate();
  }

  async getRequest(id: string) {
    const r = this.db.prepare('SELECT * FROM requests WHERE id = ?').get(id) as Row | undefined;
    return r ? requestOf(r) : null;
  }

  async listRequests(opts: { status?: RequestStatus; limit?: number } = {}) {
    const rows = opts.status
      ? this.db.prepare('SELECT * FROM requests WHERE status = ? ORDER BY seq DESC LIMIT ?').all(opts.status, opts.limit ?? 100)
      : this.db.prepare('SELECT * FROM requests ORDER BY seq DESC LIMIT ?').all(opts.limit ?? 100);
    return (rows as Row[]).map(requestOf);
  }

  // submissions

  async insertSubmission(s: NewSubmission): Promise<InsertSubmissionOutcome> {
    return this.db.transaction((): InsertSubmissionOutcome => {
      const open = this.db.prepare(`SELECT idx FROM epochs WHERE status = 'open'`).pluck().get() as number | undefined;
      if (open === undefined) throw new Error('no open epoch');
      this.useNonce(s.miner, s.nonce, 'submission', s.receivedAt);
      this.db.prepare('INSERT OR IGNORE INTO artifacts (sha256, owner, ownership, first_submission, at) VALUES (?, ?, ?, ?, ?)')
        .run(s.artifactSha256, s.miner, s.ownership, s.id, s.receivedAt);
      const owner = this.db.prepare('SELECT owner, first_submission FROM artifacts WHERE sha256 = ?').get(s.artifactSha256) as Row;
      const duplicate = owner.owner !== s.miner;
      this.db.prepare(`INSERT INTO submissions (id, request_id, epoch, miner, artifact_sha256, ownership, payload, signature, received_at, status)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(s.id, s.requestId, open, s.miner, s.artifactSha256, s.ownership, s.payload, s.signature, s.receivedAt, duplicate ? 'rejected' : 'pending');
      return duplicate
        ? { kind: 'duplicate', epoch: open, owner: owner.owner as string, firstSubmission: owner.first_submission as string }
        : { kind: 'pending', epoch: open };
    }).immediate();
  }

  async getSubmission(id: string) {
    const r = this.db.prepare('SELECT * FROM submissions WHERE id = ?').get(id) as Row | undefined;
    return r ? submissionOf(r) : null;
  }

  async listSubmissions(f: SubmissionFilter = {}) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.requestId !== undefined) (where.push('request_id = ?'), args.push(f.requestId));
    if (f.miner !== undefined) (where.push('miner = ?'), args.push(f.miner));
    if (f.epoch !== undefined) (where.push('epoch = ?'), args.push(f.epoch));
    if (f.status !== undefined) (where.push('status = ?'), args.push(f.status));
    const sql = `SELECT * FROM submissions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit ?? 1000) as Row[]).map(submissionOf);
  }

  async claimPending(now: number, staleBefore: number, limit: number, epoch?: number) {
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT * FROM submissions
          WHERE (status = 'pending' OR (status = 'validating' AND claimed_at < ?)) ${epoch === undefined ? '' : 'AND epoch = ?'}
          ORDER BY seq LIMIT ?`).all(...(epoch === undefined ? [staleBefore, limit] : [staleBefore, epoch, limit])) as Row[];
      const claim = this.db.prepare(`UPDATE submissions SET status = 'validating', claimed_at = ? WHERE id = ?`);
      for (const r of rows) claim.run(now, r.id);
      return rows.map((r) => ({ ...submissionOf(r), status: 'validating' as const, claimedAt: now }));
    }).immediate();
  }

  async setVerdict(id: string, v: Verdict) {
    this.db.prepare('UPDATE submissions SET status = ?, verdict = ?, score = ?, over_claim = ?, claimed_at = NULL WHERE id = ?')
      .run(v.status, JSON.stringify(v), v.score, v.overClaim ? 1 : 0, id);
  }

  async getBaseMeasurement(epoch: number, requestId: string) {
    const r = this.db.prepare('SELECT measured FROM base_measurements WHERE epoch = ? AND request_id = ?').pluck().get(epoch, requestId) as string | undefined;
    return r ? (JSON.parse(r) as Measured) : null;
  }

  async putBaseMeasurement(epoch: number, requestId: string, measured: Measured, at: number) {
    this.db.prepare('INSERT OR REPLACE INTO base_measurements (epoch, request_id, measured, at) VALUES (?, ?, ?, ?)')
      .run(epoch, requestId, JSON.stringify(measured), at);
  }

  async recordLedger(e: LedgerEntry) {
    const r = this.db.prepare('INSERT OR IGNORE INTO ledger (epoch, kind, chain, payload, receipt, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.epoch, e.kind, e.chain, JSON.stringify(e.payload), e.receipt, e.at);
    return r.changes === 1;
  }

  async listLedger(opts: { epoch?: number; limit?: number } = {}) {
    const rows = opts.epoch === undefined
      ? this.db.prepare('SELECT * FROM ledger ORDER BY epoch DESC, kind LIMIT ?').all(opts.limit ?? 100)
      : this.db.prepare('SELECT * FROM ledger WHERE epoch = ? ORDER BY kind LIMIT ?').all(opts.epoch, opts.limit ?? 100);
    return (rows as Row[]).map(ledgerOf);
  }
}
