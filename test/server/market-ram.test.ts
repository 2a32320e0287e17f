// The RAM bound end to end with real processes: `lab serve`, a request for stories260K in at most 1.2 MB of
// runtime memory at 512 positions, three miners running `lab submit` (f32, q4_0, and q8_0 with the q4_0's
// figure claimed), `lab validate --once --close`. The validator computes runtime memory from each artifact
// (src/model/runtime-memory.ts) and checks the bound on that, not on the claim: the q4_0 (921,312 B, see
// test/unit/runtime-memory.test.ts) fits, the f32 (1,829,888 B) is over the bound, and the q8_0's claim is
// below its own computed figure: an over-claim.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileSource } from '../../node/files';
import { sha256OfBytes } from '../../src/io/hash';
import { loadModel } from '../../src/io/load';
import { MarketClient } from '../../src/market/client';
import { marketRuntimeBytes } from '../../src/model/runtime-memory';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { labJson as lab, serveLab, stopLab, type LabService } from './lab-process';

const DATA = sharedPath('data');

const serve = (db: string) =>
  serveLab(['--db', db, '--data', DATA, '--epoch', '1h', '--validate-every', '0', '--limit', '2']);

describeWithShared('RAM bound: computed from the artifact by the validator (real processes)', [STORIES.gguf], () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-ram-'));
  const db = join(dir, 'market.sqlite');
  const f32 = sharedPath(STORIES.gguf);
  const q4 = join(dir, 'stories-q4.gguf');
  const q8 = join(dir, 'stories-q8.gguf');
  let service: LabService | undefined;

  beforeAll(async () => {
    [service] = await Promise.all([
      serve(db),
      lab('quant', f32, '--method', 'rtn', '--dtype', 'q4_0', '--out', q4),
      lab('quant', f32, '--method', 'rtn', '--dtype', 'q8_0', '--out', q8),
    ]);
  });

  afterAll(async () => {
    await stopLab(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('q4_0 fits the bound, f32 is over it, a claim below the computed figure is an over-claim', async () => {
    const url = service!.url;
    const client = new MarketClient(url);
    const reqFile = join(dir, 'request.json');
    writeFileSync(reqFile, JSON.stringify({
      title: 'stories260K in 1.2 MB of RAM at 512 positions', base: { name: 'stories260K.gguf' },
      hardware: { maxRamBytes: 1_200_000, contextLength: 512 }, constraints: [], objective: { kind: 'smallest_bytes' },
      bid: { amount: 1, currency: 'TAO' }, deadlineEpochs: 1, payout: [1],
    }));
    const posted = await lab('request', 'post', reqFile, '--key', '//Alice', '--base', f32, '--server', url);

    // honest miners: each measures its own claim now (the request names no task: only the cost figures)
    const submit = (path: string, key: string, ...rest: string[]) => lab('submit', path, '--request', posted.id, '--key', key, '--backend', 'cpu', '--data', DATA, '--server', url, ...rest);
    const big = await submit(f32, '//Bob');
    const small = await submit(q4, '//Charlie');
    const claimed = async (id: string) => (await client.submission(id)).submission.result.cost.runtimeBytes;
    // an honest miner's figure is the validator's: the same function of the same tensors at the request's 512 positions
    expect(await claimed(big.id)).toBe(1_829_888);
    expect(await claimed(small.id)).toBe(921_312);

    // the over-claimer: the q8_0 artifact, claiming the q4_0's memory (under the bound; its own figure is not far over it)
    const q8Model = await loadModel(new Map([['q8.gguf', fileSource(q8)]]));
    const q8Ram = marketRuntimeBytes(q8Model, 512);
    expect(q8Ram).toBeGreaterThan(921_312 * 1.01);
    expect(q8Ram).toBeLessThan(1_200_000);
    const forged = { ...(await client.submission(small.id)).submission.result };
    forged.artifactSha256 = sha256OfBytes(readFileSync(q8));
    forged.cost = { ...forged.cost, bytesOnDisk: readFileSync(q8).length, runtimeBytes: 921_312 };
    const forgedFile = join(dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify(forged));
    const over = await lab('submit', q8, '--request', posted.id, '--key', '//Dave', '--result', forgedFile, '--server', url);

    const pass = await lab('validate', '--once', '--close', '--db', db, '--data', DATA, '--limit', '2');
    const verdict = (id: string) => pass.verdicts.find((v: { id: string }) => v.id === id);
    console.log(pass.verdicts.map((v: { id: string; status: string; reasons: string[] }) => `${v.id} ${v.status} ${v.reasons.join('; ')}`).join('\n'));
    expect(verdict(small.id)).toMatchObject({ status: 'accepted', reasons: [], overClaim: false });
    expect(verdict(big.id)).toMatchObject({
      status: 'rejected', overClaim: false,
      reasons: ['constraint failed: RAM at run time (weights + KV cache for 512 positions + activations) <= 1200000 (got 1829888)'],
    });
    expect(verdict(over.id)).toMatchObject({
      status: 'rejected', overClaim: true,
      reasons: [`over-claim: runtime memory claimed 921312 B, computed from the artifact ${q8Ram} B (weights as stored + KV cache for 512 positions + activations; tolerance 0.5%)`],
    });
    // what the verdict records: the computed figure and the source of the RAM check
    const v = (await client.submission(big.id)).verdict!;
    expect(v.measured).toMatchObject({ runtimeBytes: 1_829_888, contextLength: 512 });
    expect(v.constraints).toEqual([expect.objectContaining({ source: 'artifact', value: 1_829_888, threshold: 1_200_000, ok: false })]);
    expect(pass.closed[0].results[0]).toMatchObject({ requestId: posted.id, status: 'fulfilled', winner: small.id });
  });
});
