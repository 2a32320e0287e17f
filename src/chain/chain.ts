// What a validator publishes when an epoch closes, and where: a commitment (one sha256 over the epoch's verdicts,
// so anyone holding the market's records can prove what was decided) and weights (each winning miner's share
// of the epoch's payouts), to a Chain. The default Chain is the local ledger (server/ledger.ts: a table in the
// market's own database); SubtensorChain (subtensor.ts) sends the same two things to a Bittensor subnet as
// `commitments.set_commitment` and `subtensorModule.set_weights` extrinsics.
import { sha256OfBytes } from '../io/hash';
import type { EpochRequestResult } from '../market/schema';
import { canonicalJson } from '../recipe/canonical';

export interface EpochCommitment {
  epoch: number;
  /** sha256 (hex) of the canonical JSON of the epoch's results (epochDigest). */
  digest: string;
}

export interface MinerWeight {
  /** The miner's SS58 address (on a subnet: its hotkey). */
  miner: string;
  /** Its share of everything paid out in the epoch, 0..1; the shares sum to 1. */
  weight: number;
}

export interface WeightsUpdate {
  epoch: number;
  weights: MinerWeight[];
}

export interface ChainReceipt {
  chain: string;
  /** Where to find it: a block hash and extrinsic index on a chain, the ledger row locally. */
  ref: string;
}

export interface Chain {
  readonly name: string;
  commit(c: EpochCommitment): Promise<ChainReceipt>;
  setWeights(w: WeightsUpdate): Promise<ChainReceipt>;
  close?(): Promise<void>;
}

/** The commitment of an epoch: sha256 over the canonical JSON of its results (winners, rankings, rejections). */
export function epochDigest(epoch: number, results: EpochRequestResult[]): string {
  return sha256OfBytes(new TextEncoder().encode(canonicalJson({ epoch, results })));
}

/**
 * Weights from an epoch's results: every ranked miner's payout share (share × bid, summed over requests, in
 * each request's currency as a fraction of that request's bid, so TAO and USD bids count alike), normalised
 * to sum to 1. Miners sorted by address so the same results always give the same list. Empty when nobody won.
 */
export function epochWeights(results: EpochRequestResult[]): MinerWeight[] {
  const by = new Map<string, number>();
  for (const r of results) for (const e of r.ranking) if (e.share > 0) by.set(e.miner, (by.get(e.miner) ?? 0) + e.share);
  const total = [...by.values()].reduce((s, x) => s + x, 0);
  if (total === 0) return [];
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([miner, w]) => ({ miner, weight: w / total }));
}
