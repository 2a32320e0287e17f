// SCALE call data of the two subtensor extrinsics a validator sends, built with @polkadot/types codecs from an
// explicit call-index table, so they can be built and checked without a node. Where the numbers come from
// (github.com/opentensor/subtensor):
//   runtime/src/lib.rs, construct_runtime!: SubtensorModule: pallet_subtensor = 7, Commitments: pallet_commitments = 18
//   pallets/subtensor/src/macros/dispatches.rs: #[pallet::call_index(0)] set_weights(netuid: u16, dests: Vec<u16>,
//     weights: Vec<u16>, version_key: u64)
//   pallets/commitments/src/lib.rs: #[pallet::call_index(0)] set_commitment(netuid: u16, info: Box<CommitmentInfo>)
//   pallets/commitments/src/types.rs: CommitmentInfo { fields: BoundedVec<Data, MaxFields> }; Data::Sha256([u8; 32])
//     encodes as the byte 131 then the 32 bytes (Raw(n bytes) is 1 + n, BlakeTwo256 130, Keccak256 132, ...)
// A live node's metadata is the authority: SubtensorChain compares these bytes with what @polkadot/api builds
// from the node's metadata before sending anything, and refuses to send when they differ.
import { TypeRegistry } from '@polkadot/types';
import { hexToU8a, u8aConcat } from '@polkadot/util';

export const SUBTENSOR_CALLS = {
  setWeights: { pallet: 'subtensorModule', method: 'setWeights', palletIndex: 7, callIndex: 0 },
  setCommitment: { pallet: 'commitments', method: 'setCommitment', palletIndex: 18, callIndex: 0 },
} as const;

/** Data::Sha256's leading byte in pallet_commitments' hand-written encoding. */
export const DATA_SHA256 = 131;
const U16_MAX = 65_535;

const registry = new TypeRegistry();
const enc = (type: string, value: unknown) => registry.createType(type, value).toU8a();
const callIndex = (c: { palletIndex: number; callIndex: number }) => new Uint8Array([c.palletIndex, c.callIndex]);

/** `subtensorModule.set_weights(netuid, dests, weights, version_key)` call data. */
export function setWeightsCall(netuid: number, uids: number[], weights: number[], versionKey: bigint | number): Uint8Array {
  if (uids.length !== weights.length) throw new Error(`set_weights: ${uids.length} uids but ${weights.length} weights`);
  return u8aConcat(callIndex(SUBTENSOR_CALLS.setWeights), enc('u16', netuid), enc('Vec<u16>', uids), enc('Vec<u16>', weights), enc('u64', versionKey));
}

/** `commitments.set_commitment(netuid, { fields: [Data::Sha256(digest)] })` call data. */
export function setCommitmentCall(netuid: number, sha256Hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`set_commitment: "${sha256Hex}" is not a sha256 in hex`);
  const field = u8aConcat(new Uint8Array([DATA_SHA256]), hexToU8a(`0x${sha256Hex}`));
  return u8aConcat(callIndex(SUBTENSOR_CALLS.setCommitment), enc('u16', netuid), enc('Compact<u32>', 1), field);
}

/**
 * Shares (summing to 1) as subtensor's u16 weights, the way bittensor's SDK emits them
 * (convert_weights_and_uids_for_emit): scaled so the largest is 65535, rounded; zeros dropped.
 */
export function u16Weights(shares: number[]): number[] {
  const max = Math.max(0, ...shares);
  if (!(max > 0)) return shares.map(() => 0);
  return shares.map((s) => Math.round((s / max) * U16_MAX));
}
