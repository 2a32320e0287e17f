// Pyodide with the sandbox driver (sandbox.py), as the browser worker runs it (workers/python.worker.ts);
// the Node sandbox's child process (node/python-sandbox.ts) inlines the same steps.
import type { loadPyodide } from 'pyodide';
import driver from './sandbox.py?raw';

/**
 * Globals dropped from the interpreter's JavaScript realm once Pyodide is up: what a program that dug a
 * JavaScript object out of the interpreter could use to reach the network, the host, or the page's
 * storage. Pyodide needs none of them after start-up (it fetches only when loading packages).
 */
export const CAPABILITY_GLOBALS = [
  'process', 'fetch', 'XMLHttpRequest', 'WebSocket', 'WebTransport', 'EventSource', 'indexedDB', 'caches',
  'BroadcastChannel', 'importScripts', 'Worker', 'SharedWorker', 'navigator',
] as const;

export function dropCapabilities(global: object = globalThis): void {
  for (const name of CAPABILITY_GLOBALS) {
    if (!(name in global)) continue;
    try {
      delete (global as Record<string, unknown>)[name];
    } catch {
      // non-configurable: shadowed below
    }
    if (name in global && (global as Record<string, unknown>)[name] !== undefined) {
      Object.defineProperty(global, name, { value: undefined, configurable: false, writable: false });
    }
  }
}

export interface PythonInterpreter {
  /** Run one program to completion (synchronously: the time limit is the host terminating the worker). */
  run(program: string): { passed: boolean; error?: string };
}

export async function startInterpreter(load: typeof loadPyodide, indexURL: string): Promise<PythonInterpreter> {
  const quiet = () => {};
  const py = await load({ indexURL, env: {}, stdout: quiet, stderr: quiet });
  py.runPython(driver);
  const runProgram = py.globals.get('run_program') as (source: string) => string;
  dropCapabilities();
  return {
    run(program) {
      const r = JSON.parse(runProgram(program)) as { passed: boolean; error: string | null };
      return { passed: r.passed, ...(r.error != null && { error: r.error }) };
    },
  };
}
