// The first page end to end: a real Vite dev server and Debian Chromium with WebGPU on SwiftShader.
// Loads the bundled stories260K, generates greedily and compares with the llama2.c golden text; then
// feeds a corrupt file and expects a clear error on the page.
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, STORIES, describeWithShared, sharedPath } from '../fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * `--enable-unsafe-webgpu` is the flag that matters: with it headless Chromium on Linux (no GPU) gets a
 * SwiftShader (Vulkan on CPU) adapter; without it navigator.gpu.requestAdapter() returns null.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-vulkan=swiftshader',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface GreedyCase {
  prompt: string;
  text: string;
  generated_tokens: number[];
}

const suite = (name: string, fn: () => void) => {
  if (existsSync(CHROMIUM)) return describeWithShared(name, [STORIES.reference], fn);
  const reason = `SKIPPED "${name}": Chromium not found at ${CHROMIUM} (install: apt-get install -y chromium libvulkan1, or set CHROMIUM_PATH)`;
  console.warn(reason);
  return describe.skip(`${name} [${reason}]`, fn);
};

suite('first page in Chromium (WebGPU via SwiftShader)', () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    server = await createServer({
      configFile: `${REPO}/vite.config.ts`,
      root: REPO,
      logLevel: 'warn',
      clearScreen: false,
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    });
    await server.listen();
    const { port } = server.httpServer!.address() as AddressInfo;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
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
    await browser?.close();
    await server?.close();
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
