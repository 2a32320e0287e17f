// The browser's Python sandbox: Pyodide in its own Web Worker (workers/python.worker.ts), loaded from the
// npm package as Vite serves it, driven by src/eval/code/browser-runner.ts in Chromium. A canonical
// HumanEval solution passes, a wrong one fails, an infinite loop ends at the time limit (the worker is
// terminated) and the next program runs in a fresh worker; a program finds no storage or network.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dirSource } from '../../node/data-source';
import { loadTaskLibrary } from '../../node/tasks';
import { loadDocs } from '../../src/eval/data-formats';
import type { GenerateUntilTask } from '../../src/eval/task-schema';
import { programOf } from '../../src/eval/tasks/generate-until';
import { sharedPath } from '../fixtures';
import { chromiumSuite, startLab, type Lab } from './harness';

const HUMANEVAL = 'data/humaneval/HumanEval.jsonl';

/** A hostile program: looks through every object the collector tracks for a JavaScript proxy with reach. */
const HUNT = `
import gc
found = set()
for o in gc.get_objects():
    cands = [o] + (list(o.values()) if isinstance(o, dict) else list(o) if isinstance(o, (list, tuple)) else [])
    for c in cands:
        if "JsProxy" not in str(type(c).__mro__):
            continue
        for name in ("fetch", "indexedDB", "caches", "navigator", "XMLHttpRequest", "WebSocket"):
            try:
                if getattr(c, name, None) is not None:
                    found.add(name)
            except Exception:
                pass
assert not found, found
`;

type Outcome = { passed: boolean; error?: string; timedOut: boolean };

chromiumSuite('Python sandbox in a Chromium Web Worker', () => {
  let lab: Lab | undefined;
  const programs: Record<string, string> = {};

  beforeAll(async () => {
    const task = loadTaskLibrary().get('humaneval') as GenerateUntilTask;
    const [doc] = await loadDocs(dirSource(sharedPath('data')), task.data);
    programs.canonical = programOf(task, doc, String(doc.canonical_solution));
    programs.wrong = programOf(task, doc, '    return False\n');
    programs.loop = programOf(task, doc, '    while True:\n        pass\n');
    lab = await startLab();
    const readyMs = await lab.page.evaluate(async () => {
      // built from a string so vitest's SSR transform of import() does not reach into the page
      const imp = new Function('p', 'return import(p)') as (p: string) => Promise<any>;
      const { createBrowserPythonRunner } = await imp('/src/eval/code/browser-runner.ts');
      const t0 = performance.now();
      const runner = createBrowserPythonRunner();
      (globalThis as any).__python = runner;
      await runner.ready();
      return performance.now() - t0;
    });
    console.log(`Chromium: Pyodide worker ready in ${readyMs.toFixed(0)} ms`);
  });
  afterAll(async () => {
    await lab?.page.evaluate(() => (globalThis as any).__python?.close()).catch(() => {});
    await lab?.close();
  });

  const run = (program: string, timeoutMs: number) => lab!.page.evaluate(async ({ program, timeoutMs }) => {
    const t0 = performance.now();
    const outcome = await (globalThis as any).__python.run(program, { timeoutMs });
    return { outcome, ms: performance.now() - t0 };
  }, { program, timeoutMs }) as Promise<{ outcome: Outcome; ms: number }>;

  it('a canonical solution passes, a wrong one fails with its assertion', async () => {
    expect((await run(programs.canonical, 10_000)).outcome).toEqual({ passed: true, timedOut: false });
    expect((await run(programs.wrong, 10_000)).outcome).toEqual({ passed: false, timedOut: false, error: expect.stringMatching(/^AssertionError \(line \d+\)$/) });
  });

  it('an infinite loop ends at the time limit; the next program runs in a fresh worker', async () => {
    const loop = await run(programs.loop, 1000);
    expect(loop.outcome).toEqual({ passed: false, timedOut: true, error: 'timed out after 1000 ms' });
    expect(loop.ms).toBeGreaterThanOrEqual(1000);
    expect(loop.ms).toBeLessThan(1500);
    const next = await run(programs.canonical, 10_000);
    expect(next.outcome).toEqual({ passed: true, timedOut: false });
    console.log(`Chromium: timeout after ${loop.ms.toFixed(0)} ms; next program (fresh worker) after ${next.ms.toFixed(0)} ms`);
  });

  it('a program finds no JavaScript bridge, storage or network', async () => {
    expect((await run('import js', 10_000)).outcome.error).toMatch(/ModuleNotFoundError: No module named 'js'/);
    expect((await run(HUNT, 10_000)).outcome).toEqual({ passed: true, timedOut: false });
    expect(lab!.pageErrors).toEqual([]);
  });
}, [HUMANEVAL]);
