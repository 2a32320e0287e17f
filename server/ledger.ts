// Publishing a closed epoch: its commitment and its weights go to the configured Chain (src/chain), and each is
// recorded in the market's `ledger` table. With no chain configured, the ledger table is the chain: LocalLedger
// accepts everything and the row is the record. The table doubles as an outbox: a validator pass publishes every
// closed epoch that has no row yet, so a crash between closing and publishing only delays it. Locally each
// publication happens once (the row's key); to a real chain it is at least once (a crash after sending and
// before recording sends again on the next pass).
import { epochDigest, epochWeights, type Chain, type ChainReceipt } from '../src/chain/chain';
import type { EpochRow, LedgerKind, Store } from './store';

export class LocalLedger implements Chain {
  readonly name = 'local';
  async commit(c: { epoch: number }): Promise<ChainReceipt> {
    return { chain: this.name, ref: `ledger:${c.epoch}:commitment` };
  }
  async setWeights(w: { epoch: number }): Promise<ChainReceipt> {
    return { chain: this.name, ref: `ledger:${w.epoch}:weights` };
  }
}

/** Publish what `epoch` (closed) has not published yet; returns the kinds published now. */
export async function publishEpoch(store: Store, chain: Chain, epoch: EpochRow, now: number): Promise<LedgerKind[]> {
  if (epoch.status !== 'closed' || !epoch.result) throw new Error(`epoch ${epoch.idx} is ${epoch.status}; only closed epochs publish`);
  const done = new Set((await store.listLedger({ epoch: epoch.idx })).map((e) => e.kind));
  const published: LedgerKind[] = [];
  if (!done.has('commitment')) {
    const payload = { epoch: epoch.idx, digest: epochDigest(epoch.idx, epoch.result) };
    const receipt = await chain.commit(payload);
    if (await store.recordLedger({ epoch: epoch.idx, kind: 'commitment', chain: receipt.chain, payload, receipt: receipt.ref, at: now })) published.push('commitment');
  }
  const weights = epochWeights(epoch.result);
  if (!done.has('weights') && weights.length > 0) {
    const payload = { epoch: epoch.idx, weights };
    const receipt = await chain.setWeights(payload);
    if (await store.recordLedger({ epoch: epoch.idx, kind: 'weights', chain: receipt.chain, payload, receipt: receipt.ref, at: now })) published.push('weights');
  }
  return published;
}
