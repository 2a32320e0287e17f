// One lab worker (workers/lab.worker.ts) behind comlink. Each page state that runs heavy work owns one, so a
// background search on the Mine page never competes with the Lab page for a model slot.
import * as Comlink from 'comlink';
import type { LabApi } from '../../workers/lab.worker';

export type LabRemote = Comlink.Remote<LabApi>;

export interface LabWorker {
  api: LabRemote;
  terminate(): void;
}

/** Start a worker; `onError` hears when it fails to start or crashes (never silent). */
export function startLabWorker(name: string, onError: (message: string) => void): LabWorker {
  const worker = new Worker(new URL('../../workers/lab.worker.ts', import.meta.url), { type: 'module', name });
  worker.addEventListener('error', (e) => onError(`The ${name} worker failed: ${e.message || 'it could not start (see the browser console)'}`));
  return { api: Comlink.wrap<LabApi>(worker), terminate: () => worker.terminate() };
}

export const proxy = Comlink.proxy;

export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
