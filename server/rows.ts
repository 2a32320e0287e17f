// Database rows -> the Store's records, shared by both backends (sqlite.ts, postgres.ts): the column names and
// JSON columns are the same on both, from the same migrations. A field is read from the snake_case column of
// its name; the few that need converting (JSON text, a 0/1 flag) are written out.
import type { EpochRequestResult, Verdict } from '../src/market/schema';
import type { EpochRow, LedgerEntry, RequestRow, SubmissionRow } from './store';

export type Row = Record<string, unknown>;

/**
 * A reader of the named fields, each from its snake_case column (NULL stays null). Values are as the driver
 * gives them, unchecked, as the casts they replace were; the record type a reader's result is returned as
 * checks that no field is missing.
 */
function columns<K extends string>(...fields: K[]): (r: Row) => Record<K, never> {
  const pairs = fields.map((f) => [f, f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] as const);
  return (r) => Object.fromEntries(pairs.map(([f, column]) => [f, r[column] ?? null])) as Record<K, never>;
}

const json = <T>(text: unknown): T | null => (text ? (JSON.parse(text as string) as T) : null);

const epochColumns = columns('idx', 'seed', 'seedCommit', 'startsAt', 'endsAt', 'status', 'closedAt');
export const epochOf = (r: Row): EpochRow => ({ ...epochColumns(r), result: json<EpochRequestResult[]>(r.result) });

const requestColumns = columns('seq', 'id', 'buyer', 'payload', 'signature', 'openedEpoch', 'status', 'createdAt');
export const requestOf = (r: Row): RequestRow => requestColumns(r);

const submissionColumns = columns(
  'seq', 'id', 'requestId', 'epoch', 'miner', 'artifactSha256', 'ownership', 'payload', 'signature', 'receivedAt', 'status',
  'claimedAt', 'score',
);
export const submissionOf = (r: Row): SubmissionRow => ({
  ...submissionColumns(r), verdict: json<Verdict>(r.verdict), overClaim: Number(r.over_claim) === 1,
});

const ledgerColumns = columns('epoch', 'kind', 'chain', 'receipt', 'at');
export const ledgerOf = (r: Row): LedgerEntry => ({ ...ledgerColumns(r), payload: JSON.parse(r.payload as string) });
