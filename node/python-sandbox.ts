// The Node host's CodeRunner: Python programs (HumanEval completions) run in Pyodide inside a child Node
// process that Node's permission model confines: it may read the pyodide package and nothing else: no
// file writes, no child processes, no worker threads, no native addons, an empty environment. Inside,
// the program also gets no JavaScript bridge and an in-memory file system (src/eval/code/sandbox.py).
// One interpreter is kept warm between programs; the time limit kills it and a fresh one starts.
// (A worker thread could not be confined: the permission model is per process.)
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CAPABILITY_GLOBALS } from '../src/eval/code/pyodide-host';
import type { CodeOutcome, CodeRunner } from '../src/eval/code/runner';
import driver from '../src/eval/code/sandbox.py?raw';

// The child's whole source, run with `node -e` (so it needs no file to read).
// argv: pyodide's folder, its module URL, the driver.
// Once Pyodide is up, the child drops what a program that dug a JavaScript object out of the interpreter
// could still use (CAPABILITY_GLOBALS: `process`, the network), and it runs with code generation from
// strings off, so such an object cannot compile JavaScript (no eval, no Function, so no import()).
const CHILD = `
import { constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
const [indexURL, moduleURL, driver] = process.argv.slice(1);
const send = process.send.bind(process);
const exit = process.exit.bind(process);
process.on('disconnect', () => exit(0)); // the parent is gone
// Emscripten's NODEFS reads fs constants through process.binding, which the permission model refuses.
process.binding = (name) => {
  if (name === 'constants') return { fs: fsConstants, os: osConstants };
  throw new Error('process.binding(' + name + ') is not available in the sandbox');
};
const { loadPyodide } = await import(moduleURL);
const quiet = () => {};
const py = await loadPyodide({ indexURL, env: {}, stdout: quiet, stderr: quiet });
py.runPython(driver);
const runProgram = py.globals.get('run_program');
process.on('message', (program) => {
  let reply;
  try {
    reply = JSON.parse(runProgram(program));
  } catch (e) {
    reply = { passed: false, error: 'the interpreter failed: ' + (e && e.message), fatal: true };
  }
  send(reply, () => reply.fatal && exit(1));
});
for (const name of ${JSON.stringify(CAPABILITY_GLOBALS)}) delete globalThis[name];
send('ready');
`;

const PYODIDE_MODULE = createRequire(import.meta.url).resolve('pyodide/pyodide.mjs');
const PYODIDE_DIR = dirname(PYODIDE_MODULE);

function childArgs(): string[] {
  const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
  return [
    permission, `--allow-fs-read=${PYODIDE_DIR}`, '--disallow-code-generation-from-strings', '--no-warnings',
    '--input-type=module', '-e', CHILD, PYODIDE_DIR + sep, pathToFileURL(PYODIDE_MODULE).href, driver,
  ];
}

type Reply = { passed: boolean; error: string | null; fatal?: boolean };

/** One child process with one Pyodide interpreter, running one program at a time. */
class Interpreter {
  readonly ready: Promise<void>;
  #child: ChildProcess;
  #stderr = '';
  #exit: string | undefined;
  #retired = false;
  #pending: ((o: CodeOutcome) => void) | undefined;

  constructor() {
    this.#child = spawn(process.execPath, childArgs(), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: {} });
    this.#child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.#stderr = (this.#stderr + s).slice(-2000);
    });
    let started!: () => void, failed!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((started = resolve), (failed = reject)));
    this.ready.catch(() => {}); // observed by run(); a warm spare that fails is replaced there
    this.#child.on('message', (m: 'ready' | Reply) => {
      if (m === 'ready') return started();
      if (m.fatal) this.#retired = true; // it exits after this reply
      this.#settle({ passed: m.passed, timedOut: false, ...(m.error != null && { error: m.error }) });
    });
    const ended = (why: string) => {
      if (this.#exit) return;
      this.#exit = `the Python sandbox exited (${why})${this.#stderr.trim() ? `: ${this.#stderr.trim()}` : ''}`;
      failed(new Error(`Pyodide did not start: ${this.#exit}`));
      this.#settle({ passed: false, timedOut: false, error: this.#exit });
    };
    this.#child.on('error', (e) => ended(e.message));
    this.#child.on('close', (code, signal) => ended(signal ?? `code ${code}`));
    this.hold(false);
  }

  get alive(): boolean {
    return !this.#retired && this.#exit === undefined;
  }

  /** Keep the parent alive for this child only while someone waits on it. */
  hold(on: boolean): void {
    const handles = [this.#child, this.#child.channel, this.#child.stderr] as ({ ref(): void; unref(): void } | null | undefined)[];
    for (const h of handles) on ? h?.ref() : h?.unref();
  }

  run(program: string, timeoutMs: number): Promise<CodeOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#settle({ passed: false, timedOut: true, error: `timed out after ${timeoutMs} ms` });
        this.kill();
      }, timeoutMs);
      this.#pending = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      this.#child.send(program);
    });
  }

  kill(): void {
    this.#retired = true;
    this.#child.kill('SIGKILL');
  }

  #settle(o: CodeOutcome): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.(o);
  }
}

export class PythonSandbox implements CodeRunner {
  #interpreter = new Interpreter();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Resolves once an interpreter is loaded (a few seconds), so a test or CLI can warm it up front. */
  async ready(): Promise<void> {
    const it = this.#interpreter;
    it.hold(true);
    try {
      await it.ready;
    } finally {
      it.hold(false);
    }
  }

  run(program: string, opts: { timeoutMs: number }): Promise<CodeOutcome> {
    const result = this.#queue.then(() => this.#runOne(program, opts.timeoutMs));
    this.#queue = result.catch(() => {});
    return result;
  }

  async #runOne(program: string, timeoutMs: number): Promise<CodeOutcome> {
    if (this.#closed) throw new Error('the Python sandbox is closed');
    const it = this.#interpreter;
    it.hold(true);
    try {
      try {
        await it.ready;
      } catch (e) {
        if (!this.#closed) this.#interpreter = new Interpreter();
        throw e;
      }
      return await it.run(program, timeoutMs);
    } finally {
      it.hold(false);
      // Timed out or died: start the next one now, so it is warm by the next program.
      if (!it.alive && !this.#closed && this.#interpreter === it) this.#interpreter = new Interpreter();
    }
  }

  close(): void {
    this.#closed = true;
    this.#interpreter.kill();
  }
}
