// A real Vite dev server and Debian Chromium with WebGPU (SwiftShader on machines without a GPU).
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { describe } from 'vitest';
import { REPO, STORIES, describeWithShared } from '../fixtures';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

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

/** A suite that needs Chromium and the stories260K fixtures; skipped with the reason printed otherwise. */
export function chromiumSuite(name: string, fn: () => void, fixtures: string[] = [STORIES.reference]) {
  if (existsSync(CHROMIUM)) return describeWithShared(name, fixtures, fn);
  const reason = `SKIPPED "${name}": Chromium not found at ${CHROMIUM} (install: apt-get install -y chromium libvulkan1, or set CHROMIUM_PATH)`;
  console.warn(reason);
  return describe.skip(`${name} [${reason}]`, fn);
}

export interface Lab {
  server: ViteDevServer;
  browser: Browser;
  page: Page;
  url: string;
  /** Console errors and uncaught exceptions of the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function startLab(path = '/'): Promise<Lab> {
  const server = await createServer({
    configFile: `${REPO}/vite.config.ts`,
    root: REPO,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(url + path);
  return {
    server, browser, page, url, pageErrors,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
