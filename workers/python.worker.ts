// The browser's Python sandbox: Pyodide in a Web Worker of its own, exposed through comlink. Wiring only;
// the logic is in src/eval/code/pyodide-host.ts. The page terminates this worker to enforce a time limit
// (src/eval/code/browser-runner.ts).
import * as Comlink from 'comlink';
import { startInterpreter, type PythonInterpreter } from '../src/eval/code/pyodide-host';

let interpreter: PythonInterpreter | null = null;

const api = {
  /** `indexURL`: the folder holding pyodide.mjs, pyodide.asm.wasm and python_stdlib.zip, ending in "/". */
  async load(indexURL: string): Promise<void> {
    const { loadPyodide } = await import(/* @vite-ignore */ `${indexURL}pyodide.mjs`);
    interpreter = await startInterpreter(loadPyodide, indexURL);
  },

  run(program: string): { passed: boolean; error?: string } {
    if (!interpreter) throw new Error('Pyodide is not loaded yet');
    return interpreter.run(program);
  },
};

export type PythonWorkerApi = typeof api;

Comlink.expose(api);
