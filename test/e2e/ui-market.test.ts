// The Market, Mine and Validator pages against a locally started service (what `npm start` runs: Vite dev
// middleware + the API on one port, a temp SQLite file), in Debian Chromium with a Polkadot extension injected
// the way a real one is, its keys held by a real @polkadot/keyring in this process.
// Market: a buyer fills the request form (bundled model as base, a "× base" perplexity constraint), signs and
// posts it; a miner (this process) submits a q8_0 GGUF; the validator re-measures; the buyer previews the
// winner in the browser (loads it from the blob route, generates, runs a task).
// Mine: a second miner picks the request, runs the constraint-driven search in the background worker for the
// request's objective (a request with a speed target falls back to the recipe list), submits the search's best
// signed, and sees the verdict. Validator: epochs, verdicts with reasons, the miner's history.
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileSource } from '../../node/files';
import { exportGguf } from '../../src/io/gguf-export';
import { sha256OfBytes } from '../../src/io/hash';
import { loadModel } from '../../src/io/load';
import { signEnvelope, submissionPayload } from '../../src/market/payload';
import { keyFromUri } from '../../src/market/signing';
import { marketRuntimeBytes } from '../../src/model/runtime-memory';
import { runRecipe } from '../../src/recipe/runner';
import { parseRecipe } from '../../src/recipe/schema';
import { startService, type Service } from '../../server/serve';
import { sharedPath, STORIES } from '../fixtures';
import { fakeResult } from '../server/market-fixtures';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSuite } from './harness';
import { pollOrAlert, screenshot, watchReloads, seriousViolations, waitForOrAlert } from './ui-helpers';

chromiumSuite('Market, Mine and Validator pages against a local service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ui-market-'));
  let service: Service;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  let keys: Awaited<ReturnType<typeof keyFromUri>>[];

  beforeAll(async () => {
    [service, keys] = await Promise.all([
      startService({
        host: '127.0.0.1', port: 0, db: join(dir, 'market.sqlite'), data: sharedPath('data'), epochMs: 3_600_000, validateEveryMs: 0,
        limit: 1, backend: 'cpu', maxArtifactBytes: 16 * 1024 * 1024, maxJsonBytes: 1024 * 1024, vite: true, log: () => {},
      }),
      Promise.all(['//Alice', '//Bob', '//Ferdie'].map(keyFromUri)),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => errors.push(e.message));
    watchReloads(page, errors, 1);
    const [alice, , ferdie] = keys;
    // the extension's background: holds the keys, signs what the page asks (type 'bytes', wrapped as the extension does)
    await page.exposeFunction('__extensionSignRaw', (address: string, data: string, type: string) => {
      const pair = [alice, ferdie].find((k) => k.pair.address === address)?.pair;
      if (!pair || type !== 'bytes') throw new Error('refused');
      return u8aToHex(pair.sign(u8aWrapBytes(hexToU8a(data))));
    });
    await page.addInitScript((accounts) => {
      const w = window as unknown as Record<string, any>;
      w.injectedWeb3 = {
        'polkadot-js': {
          version: '0.58.1',
          enable: async () => ({
            accounts: { get: async () => accounts, subscribe: () => () => {} },
            signer: { signRaw: async (raw: { address: string; data: string; type: string }) => ({ id: 1, signature: await w.__extensionSignRaw(raw.address, raw.data, raw.type) }) },
          }),
        },
      };
    }, [{ address: alice.pair.address, name: 'Alice', type: 'sr25519' }, { address: ferdie.pair.address, name: 'Ferdie', type: 'sr25519' }]);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let requestId = '';
  /** The selected request's terms as shown: "dt: ..." and "dd: ..." lines in order. */
  const terms = () => page.getByTestId('request-terms').evaluate((dl) => [...dl.children].map((e) => `${e.tagName.toLowerCase()}: ${(e as HTMLElement).innerText}`));

  it('Market: post a request with the form, a miner submits, the validator accepts, the buyer previews the winner', async () => {
    await page.goto(`${service.url}/#/market`);
    await page.getByRole('button', { name: 'Connect wallet' }).click();
    await page.getByLabel('Signing account').selectOption({ label: await page.getByLabel('Signing account').locator('option', { hasText: 'Alice' }).textContent() as string });
    await page.getByRole('button', { name: 'Use the bundled demo model' }).click();
    await expect.poll(() => page.getByLabel('sha256').inputValue()).toMatch(/^[0-9a-f]{64}$/);
    await page.getByLabel('Title').fill('stories260K under 700 KB, perplexity within 10%');
    await page.getByLabel('Declared base metrics (optional)').fill('tinystories.perplexity = 3.3982');
    await page.getByLabel('Largest file, bytes (optional)').fill('700000');
    await page.getByRole('button', { name: 'Sign and post request' }).click();
    requestId = ((await (await waitForOrAlert(page, 'posted', 20_000)).textContent())!.match(/[0-9a-f]{16}/) ?? [''])[0];
    expect(requestId).toMatch(/^[0-9a-f]{16}$/);
    const stored = await service.market.store.getRequest(requestId);
    expect(JSON.parse(stored!.payload)).toMatchObject({ buyer: keys[0].pair.address, hardware: { maxBytesOnDisk: 700000 }, constraints: [{ task: 'tinystories', metric: 'perplexity', op: '<=', fraction_of_base: 1.1 }] });
    // the posted request's detail: every term, in words
    const sha = JSON.parse(stored!.payload).base.sha256 as string;
    await expect.poll(terms).toEqual([
      'dt: Base model', `dd: stories260K.gguf, 1.13 MiB (1,185,376 B), sha256 ${sha.slice(0, 12)}…`,
      'dt: File size', 'dd: ≤ 683.59 KiB (700,000 B)',
      'dt: Memory at run time', 'dd: no limit',
      'dt: Speed', 'dd: no target',
      'dt: Quality', 'dd: tinystories.perplexity ≤ 1.1 × base (3.73802, from the declared 3.3982)',
      'dt: Ranked by', 'dd: smallest file on disk',
      'dt: Bid', 'dd: 10 USD, shared by rank 70% / 30%; open for 6 epochs',
    ]);

    // a miner outside the page: q8_0 of the same base, as GGUF, with an honest (empty) claim
    const base = await loadModel(new Map([['stories260K.gguf', fileSource(sharedPath(STORIES.gguf))]]));
    const q8 = await runRecipe(base, parseRecipe({ schema: 'lab.recipe/1', name: 'q8', passes: [{ pass: 'rtn', params: { dtype: 'q8_0', embedding: 'q8_0', lmHead: 'q8_0' } }] }));
    const bytes = exportGguf(q8.model);
    const sha256 = sha256OfBytes(bytes);
    await service.market.blobs.put(sha256, (async function* () { yield bytes; })(), 1 << 24);
    // its runtime memory is the market's figure (src/model/runtime-memory.ts), which the validator recomputes
    const claim = { ...fakeResult({ artifactSha256: sha256, cost: { ...fakeResult().cost, bytesOnDisk: bytes.byteLength, runtimeBytes: marketRuntimeBytes(q8.model) } }), tasks: [] };
    const bob = keys[1];
    await service.market.submit(await signEnvelope(submissionPayload({ requestId, artifact: { sha256, bytes: bytes.byteLength, name: 'stories260K-q8_0.gguf' }, result: claim, miner: bob.signer.address }), bob.signer));
    const pass = await service.validator.runOnce();
    expect(pass.verdicts.map((v) => v.status)).toEqual(['accepted']);

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId('requests').getByRole('button', { name: /stories260K under 700 KB/ }).click();
    expect(await (await waitForOrAlert(page, 'leaderboard', 10_000)).textContent()).toContain('score');
    expect(await page.getByTestId('verdict').first().textContent()).toContain('accepted');
    await page.getByRole('button', { name: 'Load it in this browser' }).click();
    expect(await (await waitForOrAlert(page, 'preview-info', 30_000)).textContent()).toContain('stories260K-q8_0.gguf');
    await page.getByLabel('Say something to it').fill('Once upon a time');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(async () => (await page.getByTestId('preview-output').textContent())?.length ?? 0, { timeout: 30_000 }).toBeGreaterThan(40);
    await page.getByRole('button', { name: 'Run task' }).click();
    expect(await (await waitForOrAlert(page, 'preview-result', 60_000)).textContent()).toMatch(/tinystories\.perplexity = 3\.\d+/);
    await screenshot(page, 'ui-market');
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('Market: the form posts a RAM bound at a context length, a speed target on a device class and a weighted objective', async () => {
    await page.getByLabel('Title').fill('stories260K for a phone: RAM, speed and a weighted score');
    await page.getByLabel('Most memory at run time, bytes (optional)').fill('2000000');
    await page.getByLabel('Min decode tokens/s').fill('50');
    await page.getByRole('button', { name: 'Sign and post request' }).click();
    // a floor without the device it is measured on is refused by name, before signing
    expect(await page.getByRole('alert').textContent()).toContain('speed: name the device class');
    await page.getByLabel('Device class for speed (optional)').fill('Pixel 8');
    // so is a memory bound without the context length its KV cache is counted for
    await page.getByRole('button', { name: 'Sign and post request' }).click();
    await expect.poll(async () => page.getByRole('alert').textContent()).toContain('memory: give the context length');
    await page.getByLabel('Context length for that memory, positions (with a memory bound)').fill('512');
    await page.getByLabel('Rank valid submissions by').selectOption('weighted');
    await page.getByLabel('Term 1 weight').fill('2');
    await page.getByRole('button', { name: 'Add term' }).click();
    await page.getByLabel('Term 2 task').selectOption('arc_easy');
    await page.getByLabel('Term 2 metric').selectOption('acc_norm');
    await page.getByLabel('Term 2 weight').fill('0.5');
    await page.getByLabel('Size weight (optional)').fill('0.25');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign and post request' }).click();
    await expect.poll(async () => ((await page.getByTestId('posted').textContent()) ?? '').match(/[0-9a-f]{16}/)?.[0], { timeout: 20_000 }).not.toBe(requestId);
    const id = ((await page.getByTestId('posted').textContent())!.match(/[0-9a-f]{16}/) ?? [''])[0];
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    const stored = JSON.parse((await service.market.store.getRequest(id))!.payload);
    expect(stored.hardware).toEqual({ maxBytesOnDisk: 700000, maxRamBytes: 2000000, contextLength: 512, speed: { deviceClass: 'Pixel 8', minDecodeTokensPerSecond: 50 } });
    expect(stored.objective).toEqual({
      kind: 'weighted', bytesWeight: 0.25,
      terms: [{ task: 'tinystories', metric: 'perplexity', weight: 2 }, { task: 'arc_easy', metric: 'acc_norm', weight: 0.5 }],
    });
    await expect.poll(async () => (await terms()).slice(2)).toEqual([
      'dt: File size', 'dd: ≤ 683.59 KiB (700,000 B)',
      'dt: Memory at run time', 'dd: ≤ 1.91 MiB (2,000,000 B) (weights as stored + KV cache for 512 positions + activations, computed from the artifact)',
      'dt: Speed', 'dd: decode ≥ 50 tokens/s on Pixel 8 (as claimed)',
      'dt: Quality', 'dd: tinystories.perplexity ≤ 1.1 × base (3.73802, from the declared 3.3982)',
      'dt: Ranked by', 'dd: highest weighted score: 2 × tinystories.perplexity + 0.5 × arc_easy.acc_norm − 0.25 × bytes / base bytes (lower-is-better metrics count negated)',
      'dt: Bid', 'dd: 10 USD, shared by rank 70% / 30%; open for 6 epochs',
    ]);
    expect(errors).toEqual([]);
  });

  it('Mine: pick the request, search its constraints in the background, submit the best signed, see the verdict', async () => {
    await page.getByRole('link', { name: 'Mine' }).click();
    // a speed target is beyond the search: that request falls back to the recipe list, and says why
    await page.getByTestId('open-requests').getByRole('button', { name: /for a phone/ }).click();
    expect(await page.getByTestId('plan').textContent()).toContain('Fixed recipe list: the search cannot bound speed');
    // the request ranks by size: the search itself looks for the smallest file within the perplexity limit
    await page.getByTestId('open-requests').getByRole('button', { name: /stories260K under 700 KB/ }).click();
    expect(await page.getByTestId('plan').textContent()).toMatch(/Constraint-driven search for the smallest file: recipes under .* with tinystories perplexity at most 10\.0% above the base/);
    await page.getByLabel('Full evaluations').fill('3');
    await page.getByLabel('Signing account').selectOption({ label: await page.getByLabel('Signing account').locator('option', { hasText: 'Ferdie' }).textContent() as string });
    await page.getByRole('button', { name: 'Start search' }).click();
    await pollOrAlert(page, () => page.getByRole('button', { name: 'Sign and submit' }).count(), 1, 120_000);
    // the search's full evaluations (at most the three asked for), its best for the objective marked, then that
    // best measured as the validator will
    const searched = await page.getByTestId('searched').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c as HTMLElement).innerText)));
    expect(searched.length).toBeGreaterThan(0);
    expect(searched.length).toBeLessThanOrEqual(3);
    const recipeName = (cell: string) => cell.replace(/\s*search's best$/, '');
    const marked = searched.filter((r) => r[0] !== recipeName(r[0]));
    expect(marked, JSON.stringify(searched)).toHaveLength(1);
    const searchBest = recipeName(marked[0][0]);
    expect(marked[0][3]).toBe('yes');
    // min-bytes: no evaluation within the limits is smaller than the search's best (the table shows KiB)
    const size = (t: string) => parseFloat(t) * (/MiB/.test(t) ? 2 ** 20 : /KiB/.test(t) ? 2 ** 10 : 1);
    for (const r of searched.filter((x) => x[3] === 'yes')) expect(size(marked[0][1])).toBeLessThanOrEqual(size(r[1]));
    const rows = await page.getByTestId('candidates').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c as HTMLElement).innerText)));
    expect(rows).toHaveLength(1);
    expect(rows[0][3]).toBe('yes');
    expect(rows[0][0].replace(/\s*best so far$/, '')).toBe(searchBest);
    expect(await page.getByTestId('best').textContent()).toContain(`Best so far: ${searchBest} `);
    // the search's state is in this browser's IndexedDB under the request (what a restarted search resumes from)
    const saved = await page.evaluate((key) => new Promise<string[]>((resolve, reject) => {
      const open = indexedDB.open('lab-search');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const get = open.result.transaction('documents').objectStore('documents').get(key);
        get.onsuccess = () => resolve(((get.result?.candidates ?? []) as { name: string; stage: string }[]).filter((c) => c.stage === 'evaluated').map((c) => c.name));
        get.onerror = () => reject(get.error);
      };
    }), `mine:${requestId}:4`);
    expect(saved.sort()).toEqual(searched.map((r) => recipeName(r[0])).sort());
    await page.getByRole('button', { name: 'Sign and submit' }).click();
    expect(await (await waitForOrAlert(page, 'verdict', 20_000)).textContent()).toMatch(/pending|validating/);
    const pass = await service.validator.runOnce();
    expect(pass.verdicts).toHaveLength(1);
    await expect.poll(() => page.getByTestId('verdict').textContent(), { timeout: 10_000 }).toContain('accepted');
    const sub = await service.market.store.getSubmission(pass.verdicts[0].submissionId);
    expect(sub).toMatchObject({ miner: keys[2].pair.address, status: 'accepted' });
    // what was submitted is the search's best: its recipe, and the artifact the page built from it
    const submitted = JSON.parse(sub!.payload);
    expect(submitted.recipe.name).toBe(searchBest);
    expect(await page.getByTestId('best').textContent()).toContain(`sha256 ${submitted.artifact.sha256.slice(0, 12)}`);
    await screenshot(page, 'ui-mine');
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('Validator: epochs, verdicts with reasons and a miner\'s history', async () => {
    await page.getByRole('link', { name: 'Validator' }).click();
    expect(await (await waitForOrAlert(page, 'epochs', 10_000)).textContent()).toContain('Epoch 0');
    expect(await page.getByTestId('queue-empty').count()).toBe(1);
    await expect.poll(() => page.getByTestId('verdict').count()).toBe(2);
    await page.getByLabel('Miner address (SS58)').fill(keys[2].pair.address);
    await page.getByRole('button', { name: 'Look up' }).click();
    expect(await (await waitForOrAlert(page, 'miner-record', 10_000)).textContent()).toContain('1 submissions, 1 accepted, 0 rejected, 0 over-claims');
    await screenshot(page, 'ui-validator');
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
}, [STORIES.gguf, STORIES.tinystories]);
