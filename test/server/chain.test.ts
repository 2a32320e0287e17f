// The chain side of a closed epoch. Without a subtensor node here, the extrinsics are checked byte for byte
// against call data written out by hand from the SCALE rules and subtensor's source (call indices: see
// src/chain/subtensor-calls.ts); the local ledger (the default chain) is exercised on both store backends:
// publication happens once, and a failed publication is retried by the next pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeRegistry } from '@polkadot/types';
import { u8aToHex } from '@polkadot/util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochDigest, epochWeights, type Chain } from '../../src/chain/chain';
import { setCommitmentCall, setWeightsCall, u16Weights } from '../../src/chain/subtensor-calls';
import type { EpochRequestResult } from '../../src/market/schema';
import { createApp } from '../../server/app';
import { BlobStore } from '../../server/blobs';
import { LocalLedger, publishEpoch } from '../../server/ledger';
import { Market } from '../../server/market';
import type { Store } from '../../server/store';
import { describeEachBackend, openTestStore } from './backends';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sgTyGBzmstUspZC92UhjJM694ty';

const results: EpochRequestResult[] = [
  {
    requestId: '00000000000000aa', status: 'fulfilled', winner: '0000000000000001', currency: 'TAO', rejected: [],
    ranking: [
      { submissionId: '0000000000000001', miner: BOB, score: -1, rank: 1, share: 0.7, amount: 7 },
      { submissionId: '0000000000000002', miner: ALICE, score: -2, rank: 2, share: 0.3, amount: 3 },
    ],
  },
  {
    requestId: '00000000000000bb', status: 'fulfilled', winner: '0000000000000003', currency: 'USD', rejected: [],
    ranking: [{ submissionId: '0000000000000003', miner: BOB, score: -1, rank: 1, share: 1, amount: 5 }],
  },
];

describe('subtensor extrinsics (SCALE call data)', () => {
  it('subtensorModule.set_weights: pallet 7, call 0, u16 netuid, Vec<u16> dests, Vec<u16> weights, u64 version', () => {
    const call = setWeightsCall(1, [0, 5], [65535, 32768], 0n);
    expect(u8aToHex(call)).toBe('0x0700' + '0100' + '08' + '0000' + '0500' + '08' + 'ffff' + '0080' + '0000000000000000');
    // netuid 300, one dest, version 1_000_000
    expect(u8aToHex(setWeightsCall(300, [42], [65535], 1_000_000n))).toBe('0x0700' + '2c01' + '04' + '2a00' + '04' + 'ffff' + '40420f0000000000');
    expect(() => setWeightsCall(1, [1, 2], [1], 0)).toThrow(/2 uids but 1 weights/);
  });

  it('commitments.set_commitment: pallet 18, call 0, u16 netuid, CommitmentInfo { fields: [Data::Sha256] }', () => {
    const digest = 'ab'.repeat(32);
    expect(u8aToHex(setCommitmentCall(1, digest))).toBe('0x1200' + '0100' + '04' + '83' + 'ab'.repeat(32));
    expect(() => setCommitmentCall(1, 'xyz')).toThrow(/not a sha256/);
  });

  it('the bytes decode back as the runtime would read them', () => {
    const registry = new TypeRegistry();
    const c = registry.createType('(u8, u8, u16, Vec<u16>, Vec<u16>, u64)', setWeightsCall(7, [3, 9, 12], [100, 200, 65535], 42n));
    expect(c.toJSON()).toEqual([7, 0, 7, [3, 9, 12], [100, 200, 65535], 42]);
  });

  it('weights: payout shares per miner summed over requests, normalised, then u16 as the bittensor SDK emits them', () => {
    const w = epochWeights(results);
    expect(w.map((x) => x.miner)).toEqual([BOB, ALICE].sort());
    const bob = w.find((x) => x.miner === BOB)!.weight;
    expect(bob).toBeCloseTo(1.7 / 2, 12);
    expect(w.reduce((s, x) => s + x.weight, 0)).toBeCloseTo(1, 12);
    expect(u16Weights([0.85, 0.15])).toEqual([65535, 11565]);
    expect(u16Weights([0, 0])).toEqual([0, 0]);
    expect(epochWeights([{ ...results[0], ranking: [] }])).toEqual([]);
    // the digest commits to the results: any change changes it
    expect(epochDigest(3, results)).toMatch(/^[0-9a-f]{64}$/);
    expect(epochDigest(3, results)).not.toBe(epochDigest(4, results));
    expect(epochDigest(3, results)).not.toBe(epochDigest(3, [results[1], results[0]]));
  });
});

describeEachBackend('local ledger: what closed epochs publish', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'market-ledger-'));
  let store: Store;
  const t = 1_800_000_000_000;

  beforeAll(async () => {
    store = await openTestStore(backend, dir);
    await store.migrate();
    await store.createFirstEpoch({ idx: 0, seed: 's0', seedCommit: 'c0', startsAt: t, endsAt: t + 1 });
    await store.advanceEpoch(0, t + 1, { idx: 1, seed: 's1', seedCommit: 'c1', startsAt: t + 1, endsAt: t + 2 });
    await store.finishEpoch(0, t + 2, results, {});
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes commitment and weights once; a failing chain records nothing and the next pass retries', async () => {
    const epoch = (await store.getEpoch(0))!;
    const down: Chain = { name: 'down', commit: async () => { throw new Error('connection refused'); }, setWeights: async () => { throw new Error('x'); } };
    await expect(publishEpoch(store, down, epoch, t)).rejects.toThrow(/connection refused/);
    expect(await store.listLedger()).toEqual([]);

    const ledger = new LocalLedger();
    const [first, second] = await Promise.all([publishEpoch(store, ledger, epoch, t + 3), publishEpoch(store, ledger, epoch, t + 3)]);
    expect([...first, ...second].sort()).toEqual(['commitment', 'weights']); // racing publishers: each kind once
    expect(await publishEpoch(store, ledger, epoch, t + 4)).toEqual([]);
    const entries = await store.listLedger({ epoch: 0 });
    expect(entries).toEqual([
      { epoch: 0, kind: 'commitment', chain: 'local', payload: { epoch: 0, digest: epochDigest(0, results) }, receipt: 'ledger:0:commitment', at: t + 3 },
      { epoch: 0, kind: 'weights', chain: 'local', payload: { epoch: 0, weights: epochWeights(results) }, receipt: 'ledger:0:weights', at: t + 3 },
    ]);
    await expect(publishEpoch(store, ledger, (await store.getEpoch(1))!, t)).rejects.toThrow(/epoch 1 is open/);

    // the API shows it
    const app = createApp(new Market(store, new BlobStore(join(dir, 'blobs')), { now: () => t }));
    const r = await app.request('/v1/ledger?epoch=0');
    expect(r.status).toBe(200);
    expect(((await r.json()) as { entries: unknown[] }).entries).toEqual(JSON.parse(JSON.stringify(entries)));
  });
});
