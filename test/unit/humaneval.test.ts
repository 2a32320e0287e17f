// HumanEval pass@1: the Node Python sandbox (Pyodide in a child process confined by Node's permission
// model) checked with the problems' own canonical solutions, the time limit, what a program can reach,
// and the task's scoring, with known-good completions and with stories260K's generations.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dirSource } from '../../node/data-source';
import { PythonSandbox } from '../../node/python-sandbox';
import { loadTaskLibrary } from '../../node/tasks';
import { loadDocs, type Doc } from '../../src/eval/data-formats';
import { runTask, selectItems } from '../../src/eval/runner';
import { parseTask, type GenerateUntilTask } from '../../src/eval/task-schema';
import { programOf, scoreGenerations } from '../../src/eval/tasks/generate-until';
import { createTokenizer } from '../../src/model/tokenizer/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { loadStoriesGguf } from '../stories';

const HUMANEVAL = 'data/humaneval/HumanEval.jsonl';
const task = loadTaskLibrary().get('humaneval') as GenerateUntilTask;
const data = () => dirSource(sharedPath('data'));
const LIMIT = { timeoutMs: 10_000 };

/** A hostile program: looks through every object the collector tracks for a JavaScript proxy with reach. */
const HUNT = `
import gc
found = set()
for o in gc.get_objects():
    cands = [o] + (list(o.values()) if isinstance(o, dict) else list(o) if isinstance(o, (list, tuple)) else [])
    for c in cands:
        if "JsProxy" not in str(type(c).__mro__):
            continue
        for name in ("process", "fetch", "navigator"):
            try:
                if getattr(c, name, None) is not None:
                    found.add(name)
            except Exception:
                pass
        try:
            c.constructor.constructor("return 1")()
            found.add("eval")
        except Exception:
            pass
assert not found, found
`;

describeWithShared('HumanEval pass@1 in the Node Python sandbox', [HUMANEVAL, STORIES.gguf], () => {
  let sandbox: PythonSandbox;
  let docs: Doc[];
  beforeAll(async () => {
    const t0 = performance.now();
    sandbox = new PythonSandbox();
    docs = await loadDocs(data(), task.data);
    await sandbox.ready();
    console.log(`Pyodide sandbox ready in ${(performance.now() - t0).toFixed(0)} ms`);
  });
  afterAll(() => sandbox?.close());

  it('the canonical solutions pass their tests (harness sanity check); a wrong solution fails', async () => {
    const t0 = performance.now();
    const items = [...docs.keys()].slice(0, 10);
    const outcomes = await Promise.all(items.map((i) => sandbox.run(programOf(task, docs[i], String(docs[i].canonical_solution)), LIMIT)));
    expect(outcomes.map((o, k) => [docs[items[k]].task_id, o.error ?? 'passed'])).toEqual(items.map((i) => [docs[i].task_id, 'passed']));
    console.log(`10 canonical HumanEval programs in ${(performance.now() - t0).toFixed(0)} ms`);
    const wrong = await sandbox.run(programOf(task, docs[0], '    return False\n'), LIMIT);
    expect(wrong).toEqual({ passed: false, timedOut: false, error: expect.stringMatching(/^AssertionError \(line \d+\)$/) });
    const broken = await sandbox.run(programOf(task, docs[0], 'return (\n'), LIMIT);
    expect(broken.passed).toBe(false);
    expect(broken.error).toMatch(/SyntaxError|IndentationError/);
  });

  it('an infinite loop is stopped at the time limit, and the sandbox keeps working', async () => {
    const t0 = performance.now();
    const loop = await sandbox.run(programOf(task, docs[0], '    while True:\n        pass\n'), { timeoutMs: 1000 });
    const elapsed = performance.now() - t0;
    expect(loop).toEqual({ passed: false, timedOut: true, error: 'timed out after 1000 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(1500);
    const t1 = performance.now();
    const next = await sandbox.run(programOf(task, docs[0], String(docs[0].canonical_solution)), LIMIT);
    expect(next).toEqual({ passed: true, timedOut: false });
    console.log(`timeout after ${elapsed.toFixed(0)} ms; next program (fresh interpreter) after ${(performance.now() - t1).toFixed(0)} ms`);
  });

  it('a program reaches no host: no JavaScript bridge, no host files, no network, nothing left by the one before', async () => {
    const fails = async (program: string) => (await sandbox.run(program, LIMIT)).error;
    expect(await fails('import js')).toMatch(/ModuleNotFoundError: No module named 'js'/);
    expect(await fails('import importlib; importlib.import_module("pyodide_js")')).toMatch(/No module named 'pyodide_js'/);
    expect(await fails(`open(${JSON.stringify(sharedPath(HUMANEVAL))}).read()`)).toMatch(/FileNotFoundError/);
    expect(await fails('import urllib.request; urllib.request.urlopen("http://127.0.0.1:9/")')).toMatch(/URLError|OSError/);
    expect(await fails('import subprocess; subprocess.run(["ls"])')).toMatch(/OSError/);
    expect(await sandbox.run(HUNT, LIMIT)).toEqual({ passed: true, timedOut: false });
    // monkey-patching is undone between programs
    expect(await sandbox.run('import builtins, math, sys; builtins.len = None; math.pi = 3; sys.setrecursionlimit(10**6)', LIMIT)).toMatchObject({ passed: true });
    expect(await sandbox.run('import math, sys; assert len([1]) == 1 and math.pi > 3.14 and sys.getrecursionlimit() < 10**6', LIMIT)).toEqual({ passed: true, timedOut: false });
  });

  it('scoring: canonical completions give pass@1 = 1; half of them replaced by a stub gives 0.5', async () => {
    const items = await selectItems(task, docs.length, 6, 'pass@1');
    const canonical = items.map((i) => String(docs[i].canonical_solution));
    const all = await scoreGenerations(task, docs, items, canonical, { codeRunner: sandbox });
    expect(all).toEqual({ metrics: { 'pass@1': { value: 1, stderr: 0 } }, n: 6, items });
    const half = await scoreGenerations(task, docs, items, canonical.map((c, k) => (k % 2 ? c : '    pass\n')), { codeRunner: sandbox });
    expect(half.metrics['pass@1'].value).toBe(0.5);
    expect(half.metrics['pass@1'].stderr).toBeCloseTo(Math.sqrt(0.3 / 6), 12); // sample variance 0.3 over n = 6
  });

  it('stories260K writes no Python: pass@1 = 0 over 2 problems; without a code runner, a clear error', async () => {
    const model = await loadStoriesGguf();
    const tok = createTokenizer(model.tokenizer!);
    const t0 = performance.now();
    const r = await runTask(new CpuRuntime(model), tok, task, { data: data(), limit: 2, seed: 'test', codeRunner: sandbox });
    expect(r.n).toBe(2);
    expect(r.metrics).toEqual({ 'pass@1': { value: 0, stderr: 0 } });
    console.log(`humaneval on stories260K (2 problems): pass@1 ${r.metrics['pass@1'].value} in ${(performance.now() - t0).toFixed(0)} ms`);
    await expect(runTask(new CpuRuntime(model), tok, task, { data: data(), limit: 2, seed: 'test' }))
      .rejects.toThrow(/pass@1 executes generated code and needs a sandboxed code runner/);
  });
});


it('a generate_until task names what each metric needs', () => {
  const { doc_to_program: _, ...noProgram } = { ...task, metrics: ['pass@1'] };
  expect(() => parseTask(noProgram, 'x.json')).toThrow(/x\.json: invalid task definition at doc_to_program: metric pass@1 needs doc_to_program/);
  const { doc_to_target: __, ...noTarget } = { ...task, metrics: ['exact_match'] };
  expect(() => parseTask(noTarget, 'y.json')).toThrow(/at doc_to_target: metric exact_match needs doc_to_target/);
});
