// Database rows -> the Store's records, shared by both backends (sqlite.ts, postgres.ts): the column names and
// JSON columns are the same on both, from the same migrations.
import type { EpochRequestResult, Verdict } from '../src/market/schema';
import type { EpochRow, EpochStatus, LedgerEntry, LedgerKind, RequestRow, RequestStatus, SubmissionRow } from './store';

export type Row = Record<string, unknown>;

export const epochOf = (r: Row): EpochRow => ({
  idx: r.idx as number,
  seed: r.seed as string,
  seedCommit: r.seed_commit as string,
  startsAt: r.starts_at as number,
  endsAt: r.ends_at as number,
  status: r.status as EpochStatus,
  closedAt: (r.closed_at as number | null) ?? null,
  result: r.result ? (JSON.parse(r.result as string) as EpochRequestResult[]) : null,
});

export const requestOf = (r: Row): RequestRow => ({
  seq: r.seq as number,
  id: r.id as string,
  buyer: r.buyer as string,
  payload: r.payload as string,
  signature: r.signature as string,
  openedEpoch: r.opened_epoch as number,
  status: r.status as RequestStatus,
  createdAt: r.created_at as number,
});

export const submissionOf = (r: Row): SubmissionRow => ({
  seq: r.seq as number,
  id: r.id as string,
  requestId: r.request_id as string,
  epoch: r.epoch as number,
  miner: r.miner as string,
  artifactSha256: r.artifact_sha256 as string,
  ownership: r.ownership as string,
  payload: r.payload as string,
  signature: r.signature as string,
  receivedAt: r.received_at as number,
  status: r.status as SubmissionRow['status'],
  claimedAt: (r.claimed_at as number | null) ?? null,
  verdict: r.verdict ? (JSON.parse(r.verdict as string) as Verdict) : null,
  score: (r.score as number | null) ?? null,
  overClaim: Number(r.over_claim) === 1,
});

export const ledgerOf = (r: Row): LedgerEntry => ({
  epoch: r.epoch as number,
  kind: r.kind as LedgerKind,
  chain: r.chain as string,
  payload: JSON.parse(r.payload as string),
  receipt: r.receipt as string,
  at: r.at as number,
});
