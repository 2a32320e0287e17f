// A Bittensor subnet as the market's Chain: @polkadot/api over a websocket to a subtensor node. The validator's
// hotkey (an sr25519 key URI) signs; miners are found on the subnet by their hotkey (the address they sign
// submissions with), so a miner must register that hotkey on the subnet to earn weight. Before sending, each
// call is built both from the node's metadata and from our call table (subtensor-calls.ts); a mismatch means
// the runtime changed under us, and nothing is sent.
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aEq, u8aToHex } from '@polkadot/util';
import type { Chain, ChainReceipt, EpochCommitment, WeightsUpdate } from './chain';
import { setCommitmentCall, setWeightsCall, u16Weights } from './subtensor-calls';

export interface SubtensorOptions {
  /** ws:// or wss:// endpoint of a subtensor node (a local node, or finney's wss://entrypoint-finney.opentensor.ai:443). */
  url: string;
  netuid: number;
  /** The validator's hotkey, registered on the subnet with a validator permit. */
  hotkey: KeyringPair;
  /** The subnet's weights version key (subtensor refuses weights below it). */
  versionKey?: bigint;
}

export class SubtensorChain implements Chain {
  readonly name: string;
  private api: Promise<ApiPromise> | null = null;

  constructor(readonly o: SubtensorOptions) {
    this.name = `subtensor:${o.url}#${o.netuid}`;
  }

  private connect(): Promise<ApiPromise> {
    return (this.api ??= ApiPromise.create({ provider: new WsProvider(this.o.url), noInitWarn: true }));
  }

  async commit(c: EpochCommitment): Promise<ChainReceipt> {
    const api = await this.connect();
    const tx = api.tx.commitments.setCommitment(this.o.netuid, { fields: [{ Sha256: `0x${c.digest}` }] });
    return this.send(tx, setCommitmentCall(this.o.netuid, c.digest));
  }

  async setWeights(w: WeightsUpdate): Promise<ChainReceipt> {
    const api = await this.connect();
    const uids: number[] = [];
    const shares: number[] = [];
    for (const { miner, weight } of w.weights) {
      const uid = (await api.query.subtensorModule.uids(this.o.netuid, miner)) as unknown as { isSome: boolean; unwrap(): { toNumber(): number } };
      if (!uid.isSome) continue; // not registered on the subnet: no weight to give
      uids.push(uid.unwrap().toNumber());
      shares.push(weight);
    }
    if (uids.length === 0) throw new Error(`epoch ${w.epoch}: none of the ${w.weights.length} winning miners is registered on subnet ${this.o.netuid}`);
    const weights = u16Weights(shares);
    const versionKey = this.o.versionKey ?? 0n;
    const tx = api.tx.subtensorModule.setWeights(this.o.netuid, uids, weights, versionKey);
    return this.send(tx, setWeightsCall(this.o.netuid, uids, weights, versionKey));
  }

  private async send(tx: SubmittableExtrinsic<'promise'>, expected: Uint8Array): Promise<ChainReceipt> {
    const built = tx.method.toU8a();
    if (!u8aEq(built, expected)) {
      throw new Error(`${tx.method.section}.${tx.method.method}: the node's metadata encodes ${u8aToHex(built)}, our call table ${u8aToHex(expected)}; update src/chain/subtensor-calls.ts`);
    }
    return new Promise((resolve, reject) => {
      tx.signAndSend(this.o.hotkey, ({ status, dispatchError, txIndex }) => {
        if (dispatchError) return reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${dispatchError.toString()}`));
        if (status.isInBlock) resolve({ chain: this.name, ref: `${status.asInBlock.toHex()}#${txIndex ?? '?'}` });
      }).catch(reject);
    });
  }

  async close() {
    if (this.api) await (await this.api).disconnect();
  }
}
