// The browser host's CodeRunner: Pyodide in a dedicated Web Worker (workers/python.worker.ts). The time
// limit is `worker.terminate()`; a fresh worker starts at once so the next program finds one warm.
// Browser-only (uses Worker and location).
import * as Comlink from 'comlink';
import type { PythonWorkerApi } from '../../../workers/python.worker';
import type { CodeOutcome, CodeRunner } from './runner';

export interface BrowserPythonRunnerOptions {
  /**
   * Folder with pyodide.mjs, pyodide.asm.wasm and python_stdlib.zip (the npm package's files), ending in
   * "/". Default: the package as the Vite dev server serves it; a built app must host these files itself.
   */
  indexURL?: string;
  createWorker?: () => Worker;
}

export interface BrowserPythonRunner extends CodeRunner {
  /** Resolves once a worker has Pyodide loaded (a few seconds). */
  ready(): Promise<void>;
  close(): void;
}

interface Slot {
  worker: Worker;
  api: Comlink.Remote<PythonWorkerApi>;
  ready: Promise<void>;
}

export function createBrowserPythonRunner(opts: BrowserPythonRunnerOptions = {}): BrowserPythonRunner {
  const indexURL = opts.indexURL ?? new URL('/node_modules/pyodide/', location.href).href;
  const createWorker = opts.createWorker ?? (() => new Worker(new URL('../../../workers/python.worker.ts', import.meta.url), { type: 'module', name: 'python' }));
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const start = (): Slot => {
    const worker = createWorker();
    const api = Comlink.wrap<PythonWorkerApi>(worker);
    const failed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (e) => reject(new Error(`the Python worker failed to start: ${e.message || 'script error'}`)), { once: true });
    });
    const ready = Promise.race([api.load(indexURL), failed]);
    ready.catch(() => {}); // observed by run()
    return { worker, api, ready };
  };
  let slot = start();

  const replace = (old: Slot) => {
    old.worker.terminate();
    if (slot === old && !closed) slot = start();
  };

  async function runOne(program: string, timeoutMs: number): Promise<CodeOutcome> {
    if (closed) throw new Error('the Python runner is closed');
    const s = slot;
    try {
      await s.ready;
    } catch (e) {
      replace(s);
      throw e;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const r = await Promise.race([s.api.run(program), timeout]);
      if (r === 'timeout') {
        replace(s);
        return { passed: false, timedOut: true, error: `timed out after ${timeoutMs} ms` };
      }
      return { ...r, timedOut: false };
    } catch (e) {
      replace(s); // the interpreter itself failed; do not trust it with the next program
      return { passed: false, timedOut: false, error: `the interpreter failed: ${(e as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async ready() {
      await slot.ready;
    },
    run(program, { timeoutMs }) {
      const result = queue.then(() => runOne(program, timeoutMs));
      queue = result.catch(() => {});
      return result;
    },
    close() {
      closed = true;
      slot.worker.terminate();
    },
  };
}
