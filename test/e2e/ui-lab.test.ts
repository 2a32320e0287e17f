// The Lab and Cache pages end to end in Debian Chromium (WebGPU on SwiftShader): load the bundled stories260K,
// build a recipe in the generated form (RTN to q4_0), run it, evaluate base and compressed on TinyStories,
// see the size vs quality plot and its Pareto front, generate side by side, download a GGUF that loads back,
// save to the IndexedDB cache, then delete it on the Cache page. axe finds no serious violation on either page.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { bytesSource } from '../../src/io/source';
import { loadModel } from '../../src/io/load';
import { STORIES } from '../fixtures';
import { CHROMIUM, chromiumSuite } from './harness';
import { lab, page, SHOTS, screenshot, seriousViolations, useLabPage, waitForOrAlert } from './ui-helpers';

/** File names in a ustar archive (name field, prefix field). */
function tarNames(bytes: Uint8Array): string[] {
  const text = (a: number, b: number) => new TextDecoder().decode(bytes.subarray(a, b)).replace(/\0.*$/s, '');
  const names: string[] = [];
  for (let at = 0; at + 512 <= bytes.length && bytes[at] !== 0;) {
    const prefix = text(at + 345, at + 500);
    names.push(prefix ? `${prefix}/${text(at, at + 100)}` : text(at, at + 100));
    at += 512 + Math.ceil(parseInt(text(at + 124, at + 136), 8) / 512) * 512;
  }
  return names;
}

chromiumSuite('Lab and Cache pages in Chromium', () => {
  useLabPage();

  it('load -> quantize -> evaluate -> compare -> export -> cache', async () => {
    await page.getByRole('button', { name: 'Load bundled model' }).click();
    expect(await (await waitForOrAlert(page, 'architecture', 60_000)).textContent()).toBe('llama');

    // the recipe form comes from the pass registry: step 1 is rtn with its schema's defaults
    await expect.poll(() => page.getByText('1. rtn').count()).toBe(1);
    expect(await page.getByLabel('dtype', { exact: true }).inputValue()).toBe('int4_g32');
    await page.getByLabel('dtype', { exact: true }).selectOption('q4_0');
    await page.getByRole('button', { name: 'Run recipe' }).click();
    const ratio = await (await waitForOrAlert(page, 'compressed-ratio', 60_000)).textContent();
    // q4_0 on the block linears only (embedding kept f32): about half the bytes
    expect(parseFloat(ratio!)).toBeGreaterThan(30);
    expect(parseFloat(ratio!)).toBeLessThan(80);

    await page.getByLabel('Items per task').fill('1');
    await page.getByRole('button', { name: 'Evaluate compressed' }).click();
    await waitForOrAlert(page, 'pareto', 120_000);
    const rows = page.getByTestId('eval-table').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 120_000 }).toBe(2);
    const table = (await page.getByTestId('eval-table').textContent())!;
    expect(table).toContain('tinystories.perplexity');
    expect(table).toContain('my-recipe');
    expect(await page.locator('figure.plot svg').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('pareto').textContent()).toMatch(/Pareto front: .+/);

    await page.getByLabel('Max new tokens').fill('12');
    await page.getByRole('button', { name: 'Generate' }).click();
    await waitForOrAlert(page, 'compressed-stats', 60_000);
    expect((await page.getByTestId('output').textContent())!.length).toBeGreaterThan(20);
    expect((await page.getByTestId('output-compressed').textContent())!.length).toBeGreaterThan(20);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download GGUF' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.gguf$/);
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const back = await loadModel(new Map([['x.gguf', bytesSource(bytes, 'x.gguf')]]));
    expect(back.tensors.get('model.layers.0.mlp.up_proj.weight')!.dtype).toBe('q4_0');

    // a folder format arrives as one .tar (one click, one download)
    const [hf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download safetensors + config' }).click()]);
    expect(hf.suggestedFilename()).toBe('stories260K-my-recipe-safetensors.tar');
    expect(tarNames(new Uint8Array(readFileSync((await hf.path())!)))).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']));
    const [onnx] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'Download ONNX' }).click()]);
    expect(tarNames(new Uint8Array(readFileSync((await onnx.path())!)))).toEqual(expect.arrayContaining(['onnx/model.onnx', 'onnx/model_q4.onnx', 'config.json']));
    expect(await page.getByTestId('exported').textContent()).toContain('stories260K-my-recipe-onnx.tar');

    // the compressed artifact was saved to the cache when the run finished
    expect(await (await waitForOrAlert(page, 'saved', 30_000)).textContent()).toMatch(/Saved stories260K-my-recipe\.safetensors \(\d+\.\d+ KiB\) to the cache/);
    await screenshot(page, 'ui-lab');
    expect(await seriousViolations(page)).toEqual([]);
    expect(lab!.pageErrors).toEqual([]);
  });

  it('the Cache page lists the saved artifact with its size and deletes it', async () => {
    await page.getByRole('link', { name: 'Cache' }).click();
    const table = await waitForOrAlert(page, 'cache-table', 10_000);
    expect(await table.textContent()).toContain('my-recipe');
    expect(await page.getByTestId('quota').textContent()).toMatch(/Models: .*KiB/);
    await screenshot(page, 'ui-cache');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: /^Delete / }).first().click();
    await page.getByTestId('cache-empty').waitFor();
    expect(await page.getByTestId('cache-notice').textContent()).toMatch(/Deleted .*\.safetensors/);
  });

  it('measures per-layer sensitivity into a heatmap, and cancels a second run from its progress bar', async () => {
    await page.getByRole('link', { name: 'Lab' }).click();
    await page.getByRole('button', { name: 'Measure sensitivity' }).click();
    const summary = (await (await waitForOrAlert(page, 'sensitivity-summary', 60_000)).textContent())!;
    expect(summary).toMatch(/Most sensitive: \S+\.weight \(\d\.\d+e-\d+\)/);
    expect(await page.getByRole('img', { name: 'Per-layer sensitivity heatmap' }).locator('rect').count()).toBeGreaterThanOrEqual(35);
    await page.locator('section[aria-labelledby="sens-heading"]').screenshot({ path: `${SHOTS}/ui-lab-sensitivity.png` });
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Measure sensitivity' }).click();
    await page.getByTestId('progress').waitFor();
    await page.getByTestId('progress').getByRole('button', { name: 'Cancel' }).click();
    expect(await (await waitForOrAlert(page, 'lab-notice', 20_000)).textContent()).toBe('Cancelled.');
    // the earlier map stays; the cancelled run left nothing half-done
    expect(await page.getByTestId('sensitivity-summary').textContent()).toBe(summary);
    expect(await page.getByRole('button', { name: 'Measure sensitivity' }).isEnabled()).toBe(true);
  });

  it('without WebGPU: says so; a model loaded by URL runs on the CPU reference', async () => {
    // Chromium without --enable-unsafe-webgpu has no adapter on a machine without a GPU
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    try {
      const p = await plain.newPage();
      await p.goto(`${lab!.url}/#/lab`);
      await p.getByTestId('no-webgpu').waitFor({ timeout: 20_000 });
      // the URL box: a bad id is named in the error; a plain URL of a model file loads
      await p.getByLabel('URL or Hugging Face repo').fill('not a repo');
      await p.getByRole('button', { name: 'Download', exact: true }).click();
      expect(await p.getByRole('alert').textContent()).toContain('"not a repo" is not a Hugging Face repo id');
      await p.getByLabel('URL or Hugging Face repo').fill(`${lab!.url}/models/stories260K.gguf`);
      await p.getByRole('button', { name: 'Download', exact: true }).click();
      expect(await (await waitForOrAlert(p, 'backend-notice', 60_000)).textContent()).toMatch(/CPU reference/);
      await p.getByLabel('Max new tokens').fill('8');
      await p.getByRole('button', { name: 'Generate' }).click();
      expect(await (await waitForOrAlert(p, 'backend', 60_000)).textContent()).toBe('cpu');
      expect((await p.getByTestId('output').textContent())!.length).toBeGreaterThan(20);
      await screenshot(p, 'ui-lab-no-webgpu');
      // responsive: a phone-width viewport scrolls only vertically
      await p.setViewportSize({ width: 390, height: 844 });
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(p, 'ui-lab-phone');
    } finally {
      await plain.close();
    }
  });
}, [STORIES.reference, STORIES.tinystories]);
