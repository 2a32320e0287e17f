// The storage interface of the market service. SQLite (sqlite.ts) implements it today; PostgreSQL can
// follow (#13) with the same migrations and these same operations. Every method is async for that reason,
// and every multi-row change is one call, so each backend can make it one transaction.
import type { EpochRequestResult, Measured, Verdict } from '../src/market/schema';

export type EpochStatus = 'open' | 'closing' | 'closed';
export type RequestStatus = 'open' | 'fulfilled' | 'expired';
export type SubmissionStatus = 'pending' | 'validating' | 'accepted' | 'rejected';

export interface EpochRow {
  idx: number;
  seed: string;
  seedCommit: string;
  startsAt: number;
  endsAt: number;
  status: EpochStatus;
  closedAt: number | null;
  result: EpochRequestResult[] | null;
}

export type NewEpoch = Pick<EpochRow, 'idx' | 'seed' | 'seedCommit' | 'startsAt' | 'endsAt'>;

export interface RequestRow {
  seq: number;
  id: string;
  buyer: string;
  /** The canonical JSON that was signed. */
  payload: string;
  signature: string;
  openedEpoch: number;
  status: RequestStatus;
  createdAt: number;
}

export interface SubmissionRow {
  seq: number;
  id: string;
  requestId: string;
  epoch: number;
  miner: string;
  artifactSha256: string;
  ownership: string;
  payload: string;
  signature: string;
  receivedAt: number;
  status: SubmissionStatus;
  claimedAt: number | null;
  verdict: Verdict | null;
  score: number | null;
  overClaim: boolean;
}

export type NewRequest = Omit<RequestRow, 'seq' | 'status' | 'openedEpoch'> & { nonce: string };
export type NewSubmission = Omit<SubmissionRow, 'seq' | 'status' | 'claimedAt' | 'verdict' | 'score' | 'overClaim' | 'epoch'> & { nonce: string };

/** The nonce was used before by the same signer: a replay. */
export class ReplayError extends Error {
  constructor(readonly signer: string, readonly nonce: string) {
    super(`replay: nonce ${nonce} was already used by ${signer}`);
  }
}

export type InsertSubmissionOutcome =
  | { kind: 'pending'; epoch: number }
  /** Another miner submitted these artifact bytes first; recorded as rejected. */
  | { kind: 'duplicate'; epoch: number; owner: string; firstSubmission: string };

export type LedgerKind = 'commitment' | 'weights';

/** One thing a closed epoch published (server/ledger.ts, src/chain). */
export interface LedgerEntry {
  epoch: number;
  kind: LedgerKind;
  chain: string;
  payload: unknown;
  receipt: string;
  at: number;
}

export interface SubmissionFilter {
  requestId?: string;
  miner?: string;
  epoch?: number;
  status?: SubmissionStatus;
  limit?: number;
}

export interface Store {
  /** Apply pending migrations (idempotent). */
  migrate(): Promise<string[]>;
  close(): Promise<void>;

  // epochs
  openEpoch(): Promise<EpochRow | null>;
  /** Create epoch 0 if there is no epoch at all; false if one exists already. */
  createFirstEpoch(e: NewEpoch): Promise<boolean>;
  /** Move open epoch `idx` to 'closing' (ending at `endsAt`) and open `next`; false if `idx` is no longer open. */
  advanceEpoch(idx: number, endsAt: number, next: NewEpoch): Promise<boolean>;
  getEpoch(idx: number): Promise<EpochRow | null>;
  listEpochs(opts?: { status?: EpochStatus; limit?: number }): Promise<EpochRow[]>;
  /** Record a closing epoch's results and request status changes; false if it was not 'closing' (already closed). */
  finishEpoch(idx: number, closedAt: number, result: EpochRequestResult[], requestStatus: Record<string, RequestStatus>): Promise<boolean>;

  /** Has `signer` used `nonce` before? (The insert checks again, atomically; this gives a replay its own answer early.) */
  nonceUsed(signer: string, nonce: string): Promise<boolean>;

  // requests
  /** Insert into the open epoch `epoch` (fails with ReplayError on a used nonce). */
  insertRequest(r: NewRequest, epoch: number): Promise<void>;
  getRequest(id: string): Promise<RequestRow | null>;
  listRequests(opts?: { status?: RequestStatus; limit?: number }): Promise<RequestRow[]>;

  // submissions
  /**
   * Record the nonce, the artifact's owner (first submitter wins) and the submission, in the epoch that is
   * open now; one transaction. ReplayError on a used nonce.
   */
  insertSubmission(s: NewSubmission): Promise<InsertSubmissionOutcome>;
  getSubmission(id: string): Promise<SubmissionRow | null>;
  listSubmissions(filter?: SubmissionFilter): Promise<SubmissionRow[]>;
  /** Take up to `limit` pending submissions (and 'validating' ones claimed before `staleBefore`), oldest first, optionally of one epoch. */
  claimPending(now: number, staleBefore: number, limit: number, epoch?: number): Promise<SubmissionRow[]>;
  setVerdict(id: string, verdict: Verdict): Promise<void>;

  // base model measurements (cache per epoch and request)
  getBaseMeasurement(epoch: number, requestId: string): Promise<Measured | null>;
  putBaseMeasurement(epoch: number, requestId: string, measured: Measured, at: number): Promise<void>;

  // what closed epochs published
  /** Record a publication; false if this epoch's `kind` is recorded already (it happened once). */
  recordLedger(e: LedgerEntry): Promise<boolean>;
  listLedger(opts?: { epoch?: number; limit?: number }): Promise<LedgerEntry[]>;
}
