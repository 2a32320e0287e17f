// The lab's Web Worker: exposes one Workspace (base model, compressed model, every heavy operation) through
// comlink. Wiring only; the logic is in src/lab/ and src/runtime/session.ts. One operation runs at a time;
// cancel() aborts it (the page passes progress callbacks as comlink proxies).
import * as Comlink from 'comlink';
import { catalog, type Catalog } from '../src/lab/catalog';
import type { Progress } from '../src/lab/compress';
import type { DataRef } from '../src/lab/data';
import type { ExportFormatId } from '../src/lab/exports';
import type { MineSearchSpec, SearchCandidate } from '../src/lab/search';
import { Workspace, type EvalRequest, type Which } from '../src/lab/workspace';
import type { DTypeId } from '../src/model/dtype';
import { fetchFileSet, fileSetFromFiles, type GenerateOptions, type GenerateStats, type ModelInfo } from '../src/runtime/session';
import { ModelCache } from '../src/store/cache';
import type { HealParams, HealStep } from '../src/lab/train';
import { hfFiles, hfFileUrl, hfSiblings, parseHfRef } from '../src/lab/hf';
import type { ByteSource } from '../src/io/source';

export type ModelSource =
  | { kind: 'url'; url: string; /** file name when the URL does not end in one (a market blob) */ name?: string }
  | { kind: 'files'; files: File[] }
  | { kind: 'cache'; id: string }
  /** "owner/name[/file]" on the Hugging Face Hub */
  | { kind: 'hf'; ref: string };

const ws = new Workspace();
let current: AbortController | null = null;

function begin(): AbortSignal {
  current?.abort();
  current = new AbortController();
  return current.signal;
}

async function filesOf(source: ModelSource, onProgress: ((p: Progress) => void) | undefined, signal: AbortSignal) {
  if (source.kind === 'url') return fetchFileSet(source.url, { onProgress, signal, name: source.name });
  if (source.kind === 'files') return fileSetFromFiles(source.files);
  if (source.kind === 'hf') {
    const ref = parseHfRef(source.ref);
    if (!ref) throw new Error(`"${source.ref}" is not a Hugging Face repo id (owner/name or owner/name/file.gguf)`);
    const set = new Map<string, ByteSource>();
    for (const file of hfFiles(ref, await hfSiblings(ref, signal))) {
      for (const [, src] of await fetchFileSet(hfFileUrl(ref, file), { onProgress, signal, name: file.split('/').pop() })) set.set(src.name, src);
    }
    return set;
  }
  return (await cacheForLoads()).fileSet(source.id);
}

// A cached model's chunks are read lazily, while it loads and after (the base's sha256), so the connection
// that hands them out stays open for the worker's life (closing it made every cached load fail).
let loadCache: Promise<ModelCache> | null = null;
const cacheForLoads = () => (loadCache ??= ModelCache.open().catch((e) => {
  loadCache = null;
  throw e;
}));

const api = {
  catalog(): Catalog {
    return catalog();
  },

  async load(source: ModelSource, onProgress?: (p: Progress) => void): Promise<ModelInfo> {
    const signal = begin();
    return ws.load(await filesOf(source, onProgress, signal), { onProgress, signal });
  },

  info(which: Which = 'base'): ModelInfo | null {
    return ws.info(which);
  },

  baseSha256(): Promise<string> {
    return ws.baseSha256(begin());
  },

  compress(recipe: unknown, data: DataRef | undefined, onProgress?: (p: Progress) => void) {
    return ws.compress(recipe, data, { onProgress, signal: begin() });
  },

  heal(params: HealParams, data: DataRef | undefined, resume: boolean, onStep?: (s: HealStep) => void, onCheckpoint?: (step: number) => void) {
    return ws.heal(params, data, { resume, onStep, onCheckpoint, signal: begin() });
  },

  evaluate(which: Which, req: EvalRequest, onProgress?: (p: Progress) => void) {
    return ws.evaluate(which, req, { onProgress, signal: begin() });
  },

  generate(which: Which, prompt: string, opts: GenerateOptions, onText?: (text: string) => void): Promise<GenerateStats> {
    return ws.generate(which, prompt, opts, onText, begin());
  },

  search(spec: MineSearchSpec, onProgress?: (p: Progress) => void, onCandidate?: (c: SearchCandidate) => void) {
    return ws.search(spec, undefined, { onProgress, onCandidate, signal: begin() });
  },

  sensitivity(dtype: DTypeId, data: DataRef | undefined, onProgress?: (p: Progress) => void) {
    return ws.sensitivity(dtype, data, { onProgress, signal: begin() });
  },

  // Copied, not transferred: an exporter may hand back a model tensor's own bytes, which must stay usable here.
  exportFiles(which: Which, format: ExportFormatId) {
    return ws.exportFiles(which, format);
  },

  exportDownload(which: Which, format: ExportFormatId) {
    return ws.exportDownload(which, format);
  },

  artifact(which: Which) {
    return ws.artifact(which);
  },

  saveToCache(which: Which, onProgress?: (p: Progress) => void) {
    return ws.saveToCache(which, { onProgress, signal: begin() });
  },

  cancel(): void {
    current?.abort();
  },
};

export type LabApi = typeof api;

Comlink.expose(api);
