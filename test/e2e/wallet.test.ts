// In Chromium: a page signs a submission through the injected Polkadot extension (reached through
// @polkadot/extension-dapp's web3Enable / web3Accounts / web3FromAddress) and the market accepts it.
// The service is what `npm start` runs (server/start.ts's startService: Vite dev middleware + API, one port).
// The extension is injected the way a real one is (`window.injectedWeb3['polkadot-js'] = { enable, version }`);
// its keys live outside the page, in a real @polkadot/keyring in the test process (as a real extension keeps
// them in its background page), and signRaw signs <Bytes>data</Bytes> with sr25519 as the extension does.
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestPayload, signEnvelope } from '../../src/market/payload';
import { keyFromUri } from '../../src/market/signing';
import { startService, type Service } from '../../server/serve';
import { sharedPath } from '../fixtures';
import { fakeResult } from '../server/market-fixtures';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSuite } from './harness';

chromiumSuite('market wallet in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-wallet-'));
  let service: Service;
  let browser: Browser;

  beforeAll(async () => {
    service = await startService({
      host: '127.0.0.1', port: 0, db: join(dir, 'market.sqlite'), data: sharedPath('data'), epochMs: 3_600_000, validateEveryMs: 0,
      limit: 10, backend: 'cpu', maxArtifactBytes: 16 * 1024 * 1024, maxJsonBytes: 1024 * 1024, vite: true, log: () => {},
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enable -> accounts -> signRaw through the extension; the service verifies, stores, validates and ranks it', async () => {
    const buyer = await keyFromUri('//Alice');
    const ferdie = await keyFromUri('//Ferdie');
    const req = requestPayload({
      title: 'any smaller stories model', base: { name: 'stories260K.gguf', sha256: 'cd'.repeat(32), bytes: 2_000_000 },
      constraints: [], objective: { kind: 'smallest_bytes' }, bid: { amount: 1, currency: 'USD' }, deadlineEpochs: 1, payout: [1],
    }, buyer.signer.address);
    const { id: requestId } = await service.market.postRequest(await signEnvelope(req, buyer.signer));

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const signed: string[] = [];
    // the extension's background: holds the key, signs what the page asks (type 'bytes' is wrapped, as the extension does)
    await page.exposeFunction('__extensionSignRaw', (address: string, data: string, type: string) => {
      if (address !== ferdie.pair.address || type !== 'bytes') throw new Error('refused');
      signed.push(data);
      return u8aToHex(ferdie.pair.sign(u8aWrapBytes(hexToU8a(data))));
    });
    await page.addInitScript(({ address }) => {
      const w = window as unknown as Record<string, any>;
      w.injectedWeb3 = {
        ...(w.injectedWeb3 ?? {}),
        'polkadot-js': {
          version: '0.58.1',
          enable: async (origin: string) => {
            w.__enabledBy = origin;
            return {
              accounts: { get: async () => [{ address, name: 'Ferdie', type: 'sr25519' }], subscribe: () => () => {} },
              signer: { signRaw: async (raw: { address: string; data: string; type: string }) => ({ id: 1, signature: await w.__extensionSignRaw(raw.address, raw.data, raw.type) }) },
            };
          },
        },
      };
    }, { address: ferdie.pair.address });
    await page.goto(service.url);

    // the claim: modest numbers (the validator re-measures them), for the artifact the page downloads and uploads
    // runtime memory as the validator computes it from that f32 GGUF: 1,171,200 B of weights + the KV cache for its
    // 2,048 positions (2,621,440 B) + 9,472 B of activations (test/unit/runtime-memory.test.ts)
    const claim = fakeResult({ artifactSha256: null, cost: { ...fakeResult().cost, bytesOnDisk: 1_185_376, runtimeBytes: 3_802_112 } });
    claim.tasks = [];
    const out = await page.evaluate(async ({ requestId, claim }) => {
      // built from a string so vitest's SSR transform of import() does not reach into the page
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const { connectWallet, walletSigner } = await imp('/src/market/wallet.ts');
      const { signEnvelope, submissionPayload } = await imp('/src/market/payload.ts');
      const { MarketClient } = await imp('/src/market/client.ts');
      const { sha256OfBytes } = await imp('/src/io/hash.ts');
      const { extensions, accounts: [account] } = await connectWallet('compression lab');
      const bytes = new Uint8Array(await (await fetch('/models/stories260K.gguf')).arrayBuffer());
      const sha256 = sha256OfBytes(bytes);
      const client = new MarketClient(location.origin);
      await client.putBlob(sha256, bytes);
      const payload = submissionPayload({
        requestId, artifact: { sha256, bytes: bytes.length, name: 'stories260K.gguf' }, result: { ...claim, artifactSha256: sha256 }, miner: account.address,
      });
      const receipt = await client.submit(await signEnvelope(payload, await walletSigner(account.address)));
      return { receipt, account, sha256, extensions: extensions.map((e: { name: string; version: string }) => `${e.name}/${e.version}`), enabledBy: (window as unknown as { __enabledBy: string }).__enabledBy };
    }, { requestId, claim });

    expect(errors).toEqual([]);
    expect(out.enabledBy).toBe('compression lab');
    expect(out.extensions).toEqual(['polkadot-js/0.58.1']);
    expect(out.account).toMatchObject({ address: ferdie.pair.address, meta: { source: 'polkadot-js', name: 'Ferdie' } });
    expect(out.receipt).toMatchObject({ status: 'pending', epoch: 0 });
    expect(signed).toHaveLength(1);
    const stored = await service.market.store.getSubmission(out.receipt.id);
    expect(stored).toMatchObject({ miner: ferdie.pair.address, artifactSha256: out.sha256, status: 'pending' });

    const pass = await service.validator.runOnce({ close: true });
    expect(pass.verdicts).toMatchObject([{ submissionId: out.receipt.id, status: 'accepted', reasons: [] }]);
    expect(pass.closed[0].results![0]).toMatchObject({ requestId, status: 'fulfilled', winner: out.receipt.id });
    await page.close();
  });
}, ['data']);
