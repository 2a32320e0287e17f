// The market end to end with real processes: `lab serve` on a random loopback port with a fresh SQLite file,
// `lab request post`, miners running `lab submit`, `lab validate --once --close` in its own process beside the
// running service, then a restart of the service on the same file. stories260K on the CPU, 20 items per task.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { MarketClient, MarketHttpError, type SubmissionView } from '../../src/market/client';
import { keyFromUri } from '../../src/market/signing';
import { describeWithShared, REPO, sharedPath, STORIES } from '../fixtures';
import { LAB, labJson as lab, serveLab, stopLab as stop, type LabService } from './lab-process';

const run = promisify(execFile);
const DATA = sharedPath('data');
const LIMIT = '20';

const serve = (db: string) =>
  serveLab(['--db', db, '--data', DATA, '--epoch', '1h', '--validate-every', '0', '--limit', LIMIT]);

describeWithShared('market end to end (real processes)', [STORIES.gguf, 'data/arc_easy'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-e2e-'));
  const db = join(dir, 'market.sqlite');
  const base = sharedPath(STORIES.gguf);
  const q8 = join(dir, 'stories-q8.gguf');
  const q4 = join(dir, 'stories-q4.gguf');
  let service: LabService | undefined;
  let client: MarketClient;

  beforeAll(async () => {
    [service] = await Promise.all([
      serve(db),
      lab('quant', base, '--method', 'rtn', '--dtype', 'q8_0', '--out', q8),
      lab('quant', base, '--method', 'rtn', '--dtype', 'q4_0', '--out', q4),
    ]);
    client = new MarketClient(service.url);
  });

  afterAll(async () => {
    await stop(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('request, honest miner, over-claimer, replay and copy; validator re-measures; epoch closes; a restart loses nothing', async () => {
    const t0 = performance.now();
    const [alice, bob, carol, dave] = await Promise.all(['//Alice', '//Bob', '//Carol', '//Dave'].map(keyFromUri));
    // the buyer: keep half the base's arc_easy acc_norm (measured by the validator on the same items; with 20
    // items one flipped answer moves it by 0.05), an upper bound that cannot bind, fit in 1.2 MB; smallest wins
    const reqFile = join(dir, 'request.json');
    writeFileSync(reqFile, JSON.stringify({
      title: 'stories260K under 1.2 MB, arc_easy kept',
      base: { name: 'stories260K.gguf' },
      hardware: { maxBytesOnDisk: 1_200_000 },
      constraints: [
        { task: 'arc_easy', metric: 'acc_norm', op: '>=', fraction_of_base: 0.5 },
        { task: 'arc_easy', metric: 'acc', op: '<=', value: 0.99 },
      ],
      objective: { kind: 'smallest_bytes' },
      bid: { amount: 10, currency: 'TAO' }, deadlineEpochs: 3, payout: [0.7, 0.3],
    }));
    const posted = await lab('request', 'post', reqFile, '--key', '//Alice', '--base', base, '--server', service!.url);
    expect(posted).toMatchObject({ openedEpoch: 0, buyer: alice.signer.address });
    const listed = await lab('request', 'list', '--server', service!.url);
    expect(listed.requests.map((r: { id: string }) => r.id)).toEqual([posted.id]);

    // honest miner: q8_0, measures its own claim now (its own seed, 20 items)
    const honest = await lab('submit', q8, '--request', posted.id, '--key', '//Bob', '--limit', LIMIT, '--backend', 'cpu', '--data', DATA, '--server', service!.url);
    expect(honest).toMatchObject({ status: 'pending', epoch: 0, miner: bob.signer.address });

    // over-claimer: the smaller q4_0 (it would win on bytes), claiming 0.9 accuracy
    const honestView = await client.submission(honest.id);
    const q4sha = sha256OfBytes(readFileSync(q4));
    const inflated = structuredClone(honestView.submission.result);
    inflated.artifactSha256 = q4sha;
    inflated.cost.bytesOnDisk = readFileSync(q4).length;
    for (const t of inflated.tasks) for (const m of Object.values(t.metrics)) Object.assign(m, { value: 0.9, stderr: 0.05 });
    const inflatedFile = join(dir, 'inflated.json');
    writeFileSync(inflatedFile, JSON.stringify(inflated));
    const over = await lab('submit', q4, '--request', posted.id, '--key', '//Carol', '--result', inflatedFile, '--server', service!.url);
    expect(over).toMatchObject({ status: 'pending', epoch: 0 });

    // replay: the honest miner's signed envelope, posted again as it is, and with the miner field changed
    const envelope = { payload: honestView.submission, signature: honestView.signature };
    const replay = await client.submit(envelope).catch((e: MarketHttpError) => e);
    expect(replay).toMatchObject({ status: 409, code: 'replay' });
    const stolen = await client.submit({ ...envelope, payload: { ...envelope.payload, miner: dave.signer.address } }).catch((e: MarketHttpError) => e);
    expect(stolen).toMatchObject({ status: 401, code: 'bad_signature' });
    // ... and the honest artifact and claim re-signed under Dave's key: a duplicate, recorded, earliest wins
    const honestResult = join(dir, 'honest.json');
    writeFileSync(honestResult, JSON.stringify(honestView.submission.result));
    const copy = await run('node', [LAB, 'submit', q8, '--request', posted.id, '--key', '//Dave', '--result', honestResult, '--server', service!.url], { cwd: REPO }).catch((e) => e);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toMatch(/HTTP 409: duplicate artifact: .* first submitted by .*earliest wins/);

    // the validator, as its own process on the same database, while the service runs
    const pass = await lab('validate', '--once', '--close', '--db', db, '--data', DATA, '--limit', LIMIT);
    expect(pass.verdicts.map((v: { id: string; status: string }) => [v.id, v.status])).toEqual([[honest.id, 'accepted'], [over.id, 'rejected']]);
    const overVerdict = pass.verdicts[1];
    expect(overVerdict.overClaim).toBe(true);
    expect(overVerdict.reasons[0]).toMatch(/^over-claim: arc_easy\.acc(_norm)? claimed 0\.9000 ± 0\.0500, re-measured/);
    const [e0] = pass.closed;
    expect(e0).toMatchObject({ index: 0, status: 'closed' });
    expect(e0.results).toHaveLength(1);
    expect(e0.results[0]).toMatchObject({ requestId: posted.id, status: 'fulfilled', winner: honest.id });
    expect(e0.results[0].ranking).toEqual([{ submissionId: honest.id, miner: bob.signer.address, score: -readFileSync(q8).length, rank: 1, share: 0.7, amount: 7 }]);
    expect(e0.results[0].rejected.map((r: { miner: string }) => r.miner).sort()).toEqual([carol.signer.address, dave.signer.address].sort());

    // what the service shows: claimed vs re-measured
    const h: SubmissionView = await client.submission(honest.id);
    const claimedVsMeasured = (s: SubmissionView) => s.verdict!.claims.map((c) => `${c.task}.${c.metric} claimed ${c.claimed.toFixed(3)} ± ${c.claimedStderr.toFixed(3)}, re-measured ${c.measured.toFixed(3)} ± ${c.measuredStderr.toFixed(3)} (tolerance ${c.tolerance.toFixed(3)})`);
    const o: SubmissionView = await client.submission(over.id);
    console.log([`honest ${honest.id}:`, ...claimedVsMeasured(h), `over-claimer ${over.id}:`, ...claimedVsMeasured(o),
      ...h.verdict!.constraints.map((c) => `constraint ${c.text}: ${c.value} ${c.ok ? 'ok' : 'FAILED'}`)].join('\n  '));
    expect(h.verdict!.claims.every((c) => c.ok)).toBe(true);
    expect(h.verdict!.measured!.n).toEqual({ arc_easy: 20 });
    expect(h.verdict!.constraints.every((c) => c.ok)).toBe(true);
    expect(o.verdict!.claims.some((c) => !c.ok)).toBe(true);
    expect((await client.getRequest(posted.id)).status).toBe('fulfilled');
    const record = await (await fetch(`${service!.url}/v1/miners/${carol.signer.address}`)).json();
    expect(record).toMatchObject({ submissions: 1, rejected: 1, overClaims: [{ submissionId: over.id, epoch: 0 }] });

    // idempotent: another pass changes nothing
    const again = await lab('validate', '--once', '--db', db, '--data', DATA, '--limit', LIMIT);
    expect(again).toEqual({ verdicts: [], closed: [] });

    // restart the service on the same file: everything is still there, the nonce still refuses the replay
    const snapshot = {
      requests: await client.listRequests(), subs: await client.submissions({ request: posted.id }), epochs: await client.epochs(),
      board: await client.leaderboard(posted.id),
    };
    await stop(service);
    service = await serve(db);
    client = new MarketClient(service.url);
    expect(await client.listRequests()).toEqual(snapshot.requests);
    expect(await client.submissions({ request: posted.id })).toEqual(snapshot.subs);
    expect(await client.leaderboard(posted.id)).toEqual(snapshot.board);
    expect((await client.epochs()).epochs.filter((e) => e.index === 0)).toEqual(snapshot.epochs.epochs.filter((e) => e.index === 0));
    expect(snapshot.board.winners).toEqual([{ epoch: 0, result: e0.results[0] }]);
    expect(await client.submit(envelope).catch((e: MarketHttpError) => e.code)).toBe('replay');
    expect(await client.hasBlob(h.submission.artifact.sha256)).toBe(true);
    console.log(`market e2e: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
});
