// The first page end to end: a real Vite dev server and Debian Chromium with WebGPU on SwiftShader.
// Loads the bundled stories260K, generates greedily and compares with the llama2.c golden text; then
// feeds a corrupt file and expects a clear error on the page.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORIES, sharedPath } from '../fixtures';
import { chromiumSuite, startLab, type Lab } from './harness';

interface GreedyCase {
  prompt: string;
  text: string;
  generated_tokens: number[];
}

chromiumSuite('first page in Chromium (WebGPU via SwiftShader)', () => {
  let lab: Lab | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    lab = await startLab();
    ({ page, pageErrors } = lab);
    await page.getByRole('button', { name: 'Load bundled model' }).waitFor();
  });

  /** Wait for `testId` to appear; if the page shows an error alert instead, fail with its text. */
  async function waitForOrAlert(testId: string, timeout: number) {
    const target = page.getByTestId(testId);
    const alert = page.getByRole('alert');
    await target.or(alert).first().waitFor({ timeout });
    if (await alert.count()) throw new Error(`the page shows an error: ${await alert.textContent()}`);
    return target;
  }

  afterAll(async () => {
    await lab?.close();
  });

  it('loads the bundled model and generates the llama2.c greedy text on WebGPU', async () => {
    const reference = JSON.parse(readFileSync(sharedPath(STORIES.reference), 'utf8')) as { cases: GreedyCase[] };
    const golden = reference.cases.find((c) => c.prompt === 'Once upon a time');
    expect(golden, 'reference_greedy.json has the "Once upon a time" case').toBeDefined();

    const gpu = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a ? `${a.info.vendor}/${a.info.architecture}` : null;
    });
    expect(gpu, 'headless Chromium exposes a WebGPU adapter').not.toBeNull();

    await page.getByRole('button', { name: 'Load bundled model' }).click();
    expect(await (await waitForOrAlert('architecture', 60_000)).textContent()).toBe('llama');
    expect(await page.getByTestId('model-info').textContent()).toContain('stories260K.gguf');
    expect(await page.getByTestId('backend-notice').count(), 'no CPU-fallback notice').toBe(0);

    await page.getByLabel('Prompt').fill(golden!.prompt);
    // The golden run is llama2.c's `-n 64`: 64 positions in all, i.e. the prompt's 5 tokens and 60 new ones.
    await page.getByLabel('Max new tokens').fill(String(golden!.generated_tokens.length));
    await page.getByLabel('Temperature').fill('0');
    await page.getByRole('button', { name: 'Generate' }).click();

    await waitForOrAlert('stats', 120_000);
    expect(await page.getByTestId('output').textContent()).toBe(golden!.text);
    expect(await page.getByTestId('backend').textContent()).toBe('webgpu');
    const prefill = Number(await page.getByTestId('prefill-tps').textContent());
    const decode = Number(await page.getByTestId('decode-tps').textContent());
    expect(prefill).toBeGreaterThan(0);
    expect(decode).toBeGreaterThan(0);
    console.log(`e2e: adapter ${gpu}; prefill ${prefill} tok/s, decode ${decode} tok/s (SwiftShader)`);
    expect(await page.getByTestId('error').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('shows a clear error for a corrupt model file', async () => {
    const loadedBefore = await page.getByTestId('architecture').count();
    const random = new Uint8Array(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761 + 12345) >>> 24;
    await page.getByLabel('Choose model file(s)…').setInputFiles({
      name: 'bad.gguf',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(random),
    });
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('bad.gguf');
    expect(text).toMatch(/not a valid GGUF|GGUF/i);
    // Whatever model was loaded before is kept.
    expect(await page.getByTestId('architecture').count()).toBe(loadedBefore);
  });
});
