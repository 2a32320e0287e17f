// What the ui-*.test.ts files share: waiting on the page while surfacing its error alerts, axe-core, screenshots.
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO } from '../fixtures';

export const SHOTS = join(REPO, 'test-results');

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
