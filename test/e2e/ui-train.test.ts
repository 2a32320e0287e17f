// The Lab's "Heal / distill" panel in Debian Chromium: load the bundled stories260K, compress it (RTN to int4_g32),
// heal it toward the base for a few updates in the worker (the CPU trainer: int4 trains straight-through on the CPU
// only; q4_0/q8_0 would train on WebGPU, test/gpu/train-qat.test.ts) with
// the loss curve drawn live, a checkpoint kept in IndexedDB, then "Resume" continuing from that checkpoint.
// axe finds no serious violation with the panel filled. A pruned (f32) model heals on WebGPU (SwiftShader here),
// and a long run stops from the progress bar's Cancel. Training is the Lab's one operation while it runs: the
// other actions are disabled with the reason shown. Each healed model has its own recipe (the recipe + the heal)
// and hash, and is saved to the cache, where it is still found and opens after a reload.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { STORIES } from '../fixtures';
import { chromiumSuite } from './harness';
import { lab, page, screenshot, seriousViolations, useLabPage, waitForOrAlert } from './ui-helpers';

/** The compressed model's recipe name and full recipe hash, as the recipe card shows them. */
async function shownRecipe(page: Page): Promise<{ name: string; hash: string }> {
  const card = page.getByTestId('compressed');
  return { name: (await card.locator('dt:text-is("Recipe") + dd').textContent())!, hash: (await card.locator('dd[title]').getAttribute('title'))! };
}

/** The cache's entries (IndexedDB, as the store writes them): id, kind and what the Lab keeps in meta. */
function cachedEntries(page: Page): Promise<{ id: string; kind: string; name: string; meta: { recipe: string | null; recipeHash: string | null; sha256: string } }[]> {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('compression-lab');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('entries').objectStore('entries').getAll();
      all.onsuccess = () => {
        open.result.close();
        resolve(all.result);
      };
      all.onerror = () => reject(all.error);
    };
  }));
}

/** "loss A → B after N updates" from the panel. */
async function lossLine(page: Page): Promise<{ first: number; last: number; steps: number }> {
  const m = (await page.getByTestId('train-loss').textContent())!.match(/loss (\d+\.\d+) → (\d+\.\d+) after (\d+) updates/);
  expect(m, 'the loss summary line').not.toBeNull();
  return { first: Number(m![1]), last: Number(m![2]), steps: Number(m![3]) };
}

chromiumSuite('Lab heal / distill panel in Chromium', () => {
  useLabPage();

  it('compress -> heal with a live loss curve and a checkpoint -> resume from it', async () => {
    await page.getByRole('button', { name: 'Load bundled model' }).click();
    await waitForOrAlert(page, 'architecture', 60_000);
    await expect.poll(() => page.getByText('1. rtn').count()).toBe(1);
    await page.getByLabel('dtype', { exact: true }).selectOption('int4_g32');
    await page.getByRole('button', { name: 'Run recipe' }).click();
    await waitForOrAlert(page, 'compressed-ratio', 60_000);
    const compressed = await shownRecipe(page);
    expect(compressed.name).toBe('my-recipe');

    const panel = page.locator('section[aria-labelledby="train-heading"]');
    await panel.getByLabel('Updates').fill('8');
    await panel.getByLabel('Learning rate').fill('0.0005');
    await panel.getByRole('button', { name: 'Heal' }).click();
    // the curve is drawn while it trains (before the run ends)
    await waitForOrAlert(page, 'train-curve', 60_000);
    expect(await (await waitForOrAlert(page, 'lab-notice', 60_000)).textContent()).toMatch(/^Healed to step 8 on the CPU: /);
    const first = await lossLine(page);
    expect(first.steps).toBe(8);
    expect(first.last).toBeLessThan(first.first);
    expect(await page.getByRole('img', { name: 'Distillation loss per update' }).locator('path').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('train-checkpoint').textContent()).toBe('Checkpoint saved at step 8 (cpu)');
    // its own identity (the recipe + the heal and its settings), saved to the cache like any recipe result
    const healed = await shownRecipe(page);
    expect(healed.name).toBe('my-recipe+heal');
    expect(healed.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(healed.hash).not.toBe(compressed.hash);
    await expect.poll(async () => (await cachedEntries(page)).find((e) => e.meta.recipeHash === healed.hash)).toMatchObject({
      kind: 'artifact', name: 'stories260K-my-recipe-healed.safetensors', meta: { recipe: 'my-recipe+heal' },
    });

    // four more updates from the stored checkpoint: the curve keeps its first 8 points and extends to 12
    await panel.getByLabel('Updates').fill('12');
    await panel.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(async () => page.getByTestId('lab-notice').textContent(), { timeout: 60_000 }).toMatch(/^Healed to step 12 on the CPU \(resumed from step 8\)/);
    const resumed = await lossLine(page);
    expect(resumed).toMatchObject({ first: first.first, steps: 12 });
    expect(await page.getByTestId('train-checkpoint').textContent()).toBe('Checkpoint saved at step 12 (cpu)');
    const resumedRecipe = await shownRecipe(page);
    expect(resumedRecipe.name).toBe('my-recipe+heal');
    expect([compressed.hash, healed.hash]).not.toContain(resumedRecipe.hash); // 12 updates, not 8
    expect((await cachedEntries(page)).filter((e) => e.meta.recipe === 'my-recipe+heal').map((e) => e.meta.recipeHash).sort())
      .toEqual([healed.hash, resumedRecipe.hash].sort());
    await screenshot(page, 'ui-train');
    expect(await seriousViolations(page)).toEqual([]);
    expect(lab!.pageErrors).toEqual([]);
  });

  it('an f32 (wanda-pruned) compressed model heals on WebGPU', async () => {
    const before = await page.getByTestId('compressed-ratio').textContent();
    await page.getByLabel('Start from a named recipe').selectOption('wanda-50');
    await page.getByRole('button', { name: 'Run recipe' }).click();
    // zeros stored in f32: the ratio moves from int4's to about 100 %
    await expect.poll(async () => page.getByTestId('compressed-ratio').textContent(), { timeout: 60_000 }).not.toBe(before);
    const panel = page.locator('section[aria-labelledby="train-heading"]');
    await panel.getByLabel('Updates').fill('6');
    await panel.getByRole('button', { name: 'Heal' }).click();
    await expect.poll(async () => page.getByTestId('lab-notice').textContent(), { timeout: 60_000 }).toMatch(/^Healed to step 6 on WebGPU: /);
    const r = await lossLine(page);
    expect(r.steps).toBe(6);
    expect(r.last).toBeLessThan(r.first);
    expect(await page.getByTestId('train-checkpoint').textContent()).toBe('Checkpoint saved at step 6 (webgpu)');
    await screenshot(page, 'ui-train-webgpu');
    expect((await shownRecipe(page)).name).toBe('wanda-50+heal');

    // a long run is the one operation in flight: the other actions are disabled and the page says why
    const actions = ['Run recipe', 'Evaluate base', 'Measure sensitivity', 'Load bundled model', 'Download GGUF'];
    await panel.getByLabel('Updates').fill('500');
    await panel.getByRole('button', { name: 'Heal' }).click();
    expect(await (await waitForOrAlert(page, 'lab-busy', 10_000)).textContent()).toBe('Training (Heal / distill): other actions wait until it ends or is cancelled.');
    for (const name of actions) expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true);
    expect(await panel.getByRole('button', { name: 'Heal' }).isDisabled()).toBe(true);
    await screenshot(page, 'ui-train-busy');
    // it stops from its progress bar's Cancel; the page says how to go on
    await panel.getByTestId('progress').getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(async () => page.getByTestId('lab-notice').textContent(), { timeout: 30_000 }).toBe('Training cancelled; resume from the last checkpoint.');
    expect(await page.getByTestId('lab-busy').count()).toBe(0);
    for (const name of actions) expect(await page.getByRole('button', { name, exact: true }).isEnabled(), name).toBe(true);
    expect(await panel.getByRole('button', { name: 'Heal' }).isEnabled()).toBe(true);
    // the cancelled run changed nothing: the model is still the 6-update heal
    expect((await shownRecipe(page)).name).toBe('wanda-50+heal');
    expect(lab!.pageErrors).toEqual([]);
  });

  it('after a reload the cache still lists the healed models, and one opens in the Lab', async () => {
    const seen = lab!.pageErrors.length;
    await page.goto(`${lab!.url}/#/cache`);
    await page.reload();
    const table = await waitForOrAlert(page, 'cache-table', 20_000);
    await expect.poll(async () => table.textContent()).toContain('recipe wanda-50+heal');
    expect(await table.textContent()).toContain('recipe my-recipe+heal');
    await page.getByRole('button', { name: 'Open in Lab: stories260K-wanda-50-healed.safetensors' }).click();
    expect(await (await waitForOrAlert(page, 'architecture', 60_000)).textContent()).toBe('llama');
    // the one load since the start is this test's own reload
    expect(lab!.pageErrors.slice(seen)).toEqual(['the page reloaded itself mid-test (Vite re-optimized dependencies?)']);
  });
}, [STORIES.reference, STORIES.tinystories]);
