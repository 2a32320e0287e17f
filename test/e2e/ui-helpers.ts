// What the ui-*.test.ts files share: the Lab page a suite starts from, waiting on the page while surfacing its
// error alerts, axe-core, screenshots.
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { REPO } from '../fixtures';
import { startLab, type Lab } from './harness';

export const SHOTS = join(REPO, 'test-results');

// Our Vite servers keep their pre-bundled dependencies apart from other suites' (see vite.config.ts cacheDir).
process.env.LAB_VITE_CACHE_DIR ??= join(REPO, 'node_modules/.vite-ui-e2e');

// live bindings: set by useLabPage's beforeAll, read by the calling file's tests (each test file has its own copy)
export let lab: Lab | undefined;
export let page: Page;

/** Opens the Lab in Chromium before the calling suite's tests (the bundled model's button ready) and closes it after. */
export function useLabPage(): void {
  beforeAll(async () => {
    lab = await startLab('/#/lab');
    page = lab.page;
    watchReloads(page, lab.pageErrors, 0);
    await page.getByRole('button', { name: 'Load bundled model' }).waitFor();
  });
  afterAll(async () => {
    await lab?.close();
  });
}

/** Fail with a clear reason when the dev server reloads the page under a test (it loses the page's state). */
export function watchReloads(page: Page, errors: string[], expectedLoads: number): void {
  let loads = 0;
  page.on('load', () => {
    if (++loads > expectedLoads) errors.push('the page reloaded itself mid-test (Vite re-optimized dependencies?)');
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Wait for `testId`; if an error alert shows first, fail with its text. */
export async function waitForOrAlert(page: Page, testId: string, timeout: number) {
  const target = page.getByTestId(testId);
  const alert = page.getByRole('alert');
  await target.or(alert).first().waitFor({ timeout });
  if (await alert.count()) throw new Error(`the page shows an error: ${await alert.first().textContent()}`);
  return target;
}

/**
 * axe-core's serious and critical violations on the page as it is now. Legacy mode runs axe in the page
 * itself: the harness's pages come from browser.newPage(), where axe's cross-frame mode cannot open its own.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page: page as never }).setLegacyMode(true).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Poll `value` until it equals `expected`; an error alert on the page fails at once with its text. */
export async function pollOrAlert<T>(page: Page, value: () => Promise<T>, expected: T, timeout: number): Promise<void> {
  const end = Date.now() + timeout;
  let last: T | undefined;
  while (Date.now() < end) {
    const alert = page.getByRole('alert');
    if (await alert.count()) throw new Error(`the page shows an error: ${await alert.first().textContent()}`);
    last = await value();
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeout} ms: expected ${String(expected)}, last saw ${String(last)}; the page says: ${(await page.locator('main').innerText()).slice(0, 1500)}`);
}
