// The lab's Web Worker: exposes one LabSession through comlink. Wiring only; the logic is in src/runtime/session.ts.
import * as Comlink from 'comlink';
import {
  LabSession, fetchFileSet, fileSetFromFiles,
  type GenerateOptions, type GenerateStats, type ModelInfo, type Progress,
} from '../src/runtime/session';

export type ModelSource = { kind: 'url'; url: string } | { kind: 'files'; files: File[] };

let session: LabSession | null = null;
let current: AbortController | null = null;

function begin(): AbortSignal {
  current?.abort();
  current = new AbortController();
  return current.signal;
}

function requireSession(): LabSession {
  if (!session) throw new Error('No model loaded yet');
  return session;
}

const api = {
  async load(source: ModelSource, onProgress?: (p: Progress) => void): Promise<ModelInfo> {
    const signal = begin();
    const files = source.kind === 'url' ? await fetchFileSet(source.url, { onProgress, signal }) : fileSetFromFiles(source.files);
    const next = await LabSession.load(files, { onProgress, signal });
    session?.dispose();
    session = next;
    return session.info();
  },

  info(): ModelInfo | null {
    return session?.info() ?? null;
  },

  generate(prompt: string, opts: GenerateOptions, onToken?: (text: string) => void): Promise<GenerateStats> {
    return requireSession().generate(prompt, opts, onToken, begin());
  },

  cancel(): void {
    current?.abort();
  },
};

export type LabApi = typeof api;

Comlink.expose(api);
