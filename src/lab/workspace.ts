// The lab worker's state: a base model and, after a recipe run, its compressed version, each a LabSession
// (tokenizer + runtime). Every operation the page asks for is one method here; workers/lab.worker.ts only
// exposes them through comlink. Results are plain data (they cross the worker boundary).
import { evaluate } from '../eval/evaluate';
import type { Result } from '../eval/result';
import { sha256Hex, sha256OfParts } from '../io/hash';
import { labArtifactParts } from '../io/lab-artifact';
import { loadModel } from '../io/load';
import type { FileSet } from '../io/source';
import { DTYPES, type DTypeId } from '../model/dtype';
import { modelBytes } from '../model/model';
import { recipeHash } from '../recipe/hash';
import type { NormalizedRecipe } from '../recipe/schema';
import type { Model } from '../model/model';
import { LabSession, yielding, type GenerateOptions, type GenerateStats, type ModelInfo } from '../runtime/session';
import { ModelCache, type StoredEntry } from '../store/cache';
import { taskLibrary } from './catalog';
import { compressModel, type Progress } from './compress';
import { dataSource, type DataRef } from './data';
import type { DataSource } from '../eval/data-source';
import { blobOf, EXPORT_FORMATS, type ExportFile, type ExportFormatId } from './exports';
import { mineSearch, type MineSearchOutcome, type MineSearchSpec, type SearchCandidate } from './search';
import { sensitivityMap, type SensitivityCell } from './sensitivity';
import { tarParts } from './tar';
import { healedRecipe, healModel, healTokens, type HealOptions, type HealParams, type TrainBackend } from './train';

export type Which = 'base' | 'compressed';

/**
 * The recipe's result a heal starts from (healing again or resuming starts from it, so the same settings give
 * the same model). While it is the compressed model it is that session's model; once a heal has replaced it,
 * it lives only in the model cache (`entry`), not as a second full copy in memory: `model` is null then,
 * unless the cache could not take it.
 */
interface Origin {
  model: Model | null;
  entry: string | null;
  name: string;
  summary: CompressSummary;
  recipe: NormalizedRecipe;
}

export interface CompressSummary {
  info: ModelInfo;
  recipeName: string;
  recipeHash: string;
  baseBytes: number;
  bytes: number;
  seconds: number;
  /** dtype -> tensor count after the run. */
  dtypes: Record<string, number>;
}

export interface EvalRequest {
  tasks: string[];
  /** Items per task (chunks for perplexity); small keeps the demo quick. */
  limit: number;
  seed?: string;
  data?: DataRef | DataSource;
  /** Also measure KLD and top-1 agreement against the base model (compressed only). */
  kld?: boolean;
  /** KV positions the Result's runtimeBytes counts (a request's hardware.contextLength). */
  contextLength?: number;
}

function dtypesOf(model: Model): Record<string, number> {
  const dtypes: Record<string, number> = {};
  for (const t of model.tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  return dtypes;
}

const partsBytes = (parts: readonly Uint8Array[]) => parts.reduce((s, p) => s + p.byteLength, 0);
const stemOf = (name: string) => name.replace(/\.(gguf|safetensors|bin)$/i, '').replace(/[^\w.-]+/g, '_') || 'model';

export class Workspace {
  private base: LabSession | null = null;
  private baseFiles: FileSet | null = null;
  private baseSha: string | null = null;
  /** The compressed model now (the recipe's result, or that healed) and the recipe's result it came from. */
  private compressed: { session: LabSession; summary: CompressSummary; recipe: NormalizedRecipe; origin: Origin } | null = null;

  private session(which: Which): LabSession {
    const s = which === 'base' ? this.base : this.compressed?.session;
    if (!s) throw new Error(which === 'base' ? 'No model loaded yet' : 'No compressed model yet: run a recipe first');
    return s;
  }

  async load(files: FileSet, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<ModelInfo> {
    const next = await LabSession.load(files, opts);
    this.base?.dispose();
    this.compressed?.session.dispose();
    this.base = next;
    this.baseFiles = files;
    this.baseSha = null;
    this.compressed = null;
    return next.info();
  }

  info(which: Which = 'base'): ModelInfo | null {
    return (which === 'base' ? this.base : this.compressed?.session)?.info() ?? null;
  }

  /** sha256 of the base model's main (largest) file, as a request's base.sha256 names it. */
  async baseSha256(signal?: AbortSignal): Promise<string> {
    this.session('base');
    if (!this.baseSha) {
      const [main] = [...this.baseFiles!.values()].sort((a, b) => b.size - a.size);
      this.baseSha = await sha256Hex(main, signal);
    }
    return this.baseSha;
  }

  async compress(recipeJson: unknown, data: DataRef | DataSource | undefined, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<CompressSummary> {
    const base = this.session('base');
    const t0 = performance.now();
    const { recipe, run } = await compressModel(base.model, base.tokenizer, recipeJson, dataSource(data), opts);
    opts.onProgress?.({ stage: 'starting the compressed model', done: 0, total: 1 });
    const session = await LabSession.fromModel(
      { ...run.model, source: { ...run.model.source, name: `${stemOf(base.model.source.name)}-${recipe.name}` } },
      { maxPositions: base.maxPositions },
    );
    const summary: CompressSummary = {
      info: session.info(), recipeName: recipe.name, recipeHash: recipeHash(await this.baseSha256(opts.signal), recipe),
      baseBytes: modelBytes(base.model), bytes: modelBytes(run.model), seconds: (performance.now() - t0) / 1000, dtypes: dtypesOf(run.model),
    };
    this.compressed?.session.dispose();
    this.compressed = { session, summary, recipe, origin: { model: session.model, entry: null, name: session.model.source.name, summary, recipe } };
    return summary;
  }

  /**
   * Heal: train the recipe's result toward the base (its teacher), checkpoints in IndexedDB under the recipe's
   * hash (so Resume continues them); the compressed model is then the trained one, with its own recipe (the
   * recipe plus the heal and its settings) and hash, for the cache, the market and exports. Healing again
   * starts from the recipe's result, so the same settings give the same model; that result then waits in the
   * model cache (where the Lab saves every recipe result anyway), so a 7B model is not held twice.
   */
  async heal(params: HealParams, data: DataRef | DataSource | undefined, opts: HealOptions): Promise<{ backend: TrainBackend; steps: number; resumedFrom: number | null; summary: CompressSummary }> {
    const base = this.session('base');
    this.session('compressed');
    const { origin } = this.compressed!;
    const t0 = performance.now();
    const tokens = await healTokens(base.tokenizer, dataSource(data));
    const student = origin.model ?? await this.reopen(origin, opts.signal);
    const r = await healModel(base.model, student, tokens, origin.summary.recipeHash, params, { ...opts, gpu: opts.gpu ?? base.backend === 'webgpu' });
    const recipe = healedRecipe(origin.recipe, params, r);
    const session = await LabSession.fromModel({ ...r.model, source: { ...r.model.source, name: `${origin.name}-healed` } }, { maxPositions: base.maxPositions });
    const summary: CompressSummary = {
      ...origin.summary, info: session.info(), recipeName: recipe.name, recipeHash: recipeHash(await this.baseSha256(opts.signal), recipe),
      bytes: modelBytes(r.model), dtypes: dtypesOf(r.model), seconds: origin.summary.seconds + (performance.now() - t0) / 1000,
    };
    const entry = origin.entry ?? await this.put(student, origin.summary, { signal: opts.signal }).then((e) => e.id, () => null);
    this.compressed!.session.dispose();
    // without a cache entry (no room) the result stays in memory: healing again must still start from it
    this.compressed = { session, summary, recipe, origin: { ...origin, entry, model: entry ? null : student } };
    return { backend: r.backend, steps: r.history.at(-1)?.step ?? 0, resumedFrom: r.resumedFrom, summary };
  }

  /** The recipe's result back from the cache, under the name it had. */
  private async reopen(origin: Origin, signal?: AbortSignal): Promise<Model> {
    const cache = await ModelCache.open();
    try {
      if (!(await cache.get(origin.entry!))) throw new Error(`the recipe's result (${origin.entry}) is no longer in the cache: run the recipe again to heal it`);
      const model = await loadModel(await cache.fileSet(origin.entry!), { signal });
      return { ...model, source: { ...model.source, name: origin.name } };
    } finally {
      cache.close();
    }
  }

  async evaluate(which: Which, req: EvalRequest, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<Result> {
    const s = this.session(which);
    const library = taskLibrary();
    const tasks = req.tasks.map((id) => {
      const t = library.get(id);
      if (!t) throw new Error(`unknown task "${id}" (known: ${[...library.keys()].join(', ')})`);
      return t;
    });
    if (tasks.length === 0 && !req.kld) throw new Error('choose at least one task to evaluate');
    const base = which === 'compressed' && req.kld ? this.session('base') : null;
    const kldTask = library.get('tinystories') ?? tasks.find((t) => t.output_type === 'loglikelihood_rolling');
    const artifact = which === 'compressed' ? labArtifactParts(s.model) : null;
    // yielding: on the CPU reference a cancel would otherwise wait for the whole evaluation
    return evaluate({
      model: s.model, runtime: yielding(s.runtime), tokenizer: s.tokenizer, tasks, data: dataSource(req.data), limit: req.limit,
      seed: req.seed ?? '0', host: 'browser', adapter: s.backend, contextLength: req.contextLength,
      base: base ? { runtime: yielding(base.runtime), name: base.model.source.name, sha256: await this.baseSha256(opts.signal) } : undefined,
      kldTask, kldChunks: 2,
      artifactSha256: artifact ? sha256OfParts(artifact) : which === 'base' ? await this.baseSha256(opts.signal) : null,
      bytesOnDisk: artifact ? partsBytes(artifact) : modelBytes(s.model),
      recipeHash: which === 'compressed' ? this.compressed!.summary.recipeHash : null,
      signal: opts.signal, onProgress: opts.onProgress,
    });
  }

  generate(which: Which, prompt: string, opts: GenerateOptions, onText?: (t: string) => void, signal?: AbortSignal): Promise<GenerateStats> {
    return this.session(which).generate(prompt, opts, onText, signal);
  }

  /** The constraint-driven search on the base model (src/lab/search.ts); compress the best to get its artifact. */
  async search(spec: MineSearchSpec, data: DataRef | DataSource | undefined, opts: { onProgress?: (p: Progress) => void; onCandidate?: (c: SearchCandidate) => void; signal?: AbortSignal }): Promise<MineSearchOutcome> {
    const base = this.session('base');
    return mineSearch(base.model, base.tokenizer, await this.baseSha256(opts.signal), dataSource(data), spec, opts);
  }

  sensitivity(dtype: DTypeId, data: DataRef | DataSource | undefined, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<SensitivityCell[]> {
    if (!(dtype in DTYPES)) throw new Error(`unknown dtype "${dtype}"`);
    const s = this.session('base');
    return sensitivityMap(s.model, s.tokenizer, dataSource(data), { dtype, ...opts });
  }

  async exportFiles(which: Which, format: ExportFormatId): Promise<ExportFile[]> {
    const f = EXPORT_FORMATS[format];
    if (!f) throw new Error(`unknown export format "${format}" (known: ${Object.keys(EXPORT_FORMATS).join(', ')})`);
    const s = this.session(which);
    return f.files(s.model, stemOf(s.model.source.name));
  }

  /**
   * What one click downloads: the single file, or a folder format as one .tar named after the model; a Blob
   * of the parts (a Blob crosses to the page without a copy and may be larger than any ArrayBuffer).
   */
  async exportDownload(which: Which, format: ExportFormatId): Promise<{ path: string; blob: Blob; bytes: number; files: string[] }> {
    const files = await this.exportFiles(which, format);
    const paths = files.map((f) => f.path);
    const one = files.length === 1
      ? { path: files[0].path, parts: files[0].parts }
      : { path: `${stemOf(this.session(which).model.source.name)}-${format}.tar`, parts: tarParts(files) };
    return { path: one.path, blob: blobOf(one.parts), bytes: partsBytes(one.parts), files: paths };
  }

  /** The self-contained artifact the market takes (lab .safetensors) as byte parts, with its sha256. */
  private artifactParts(which: Which): { name: string; parts: Uint8Array[]; sha256: string } {
    return this.artifactOf(this.session(which).model);
  }

  private artifactOf(model: Model): { name: string; parts: Uint8Array[]; sha256: string } {
    const parts = labArtifactParts(model);
    return { name: `${stemOf(model.source.name)}.safetensors`, parts, sha256: sha256OfParts(parts) };
  }

  /** The self-contained artifact the market takes (lab .safetensors) in one buffer, with its sha256. */
  artifact(which: Which): { name: string; bytes: Uint8Array; sha256: string; recipe: unknown } {
    const { name, parts, sha256 } = this.artifactParts(which);
    const bytes = new Uint8Array(partsBytes(parts));
    parts.reduce((at, p) => (bytes.set(p, at), at + p.byteLength), 0);
    return { name, bytes, sha256, recipe: which === 'compressed' ? this.compressed!.recipe : null };
  }

  /** Keep the model in IndexedDB (as the lab artifact) so it loads again without a download. */
  async saveToCache(which: Which, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<StoredEntry> {
    const model = this.session(which).model;
    const entry = await this.put(model, which === 'compressed' ? this.compressed!.summary : null, opts);
    // the recipe's result, saved before any heal: a heal then needs no copy of its own (see Origin)
    if (which === 'compressed' && this.compressed!.origin.model === model) this.compressed!.origin.entry = entry.id;
    return entry;
  }

  private async put(model: Model, summary: CompressSummary | null, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<StoredEntry> {
    const a = this.artifactOf(model);
    const cache = await ModelCache.open();
    try {
      return await cache.put(`${a.name}#${a.sha256.slice(0, 12)}`, [{ path: a.name, data: a.parts }], {
        kind: summary ? 'artifact' : 'model', name: a.name, signal: opts.signal, onProgress: opts.onProgress,
        meta: { sha256: a.sha256, format: 'lab', recipe: summary?.recipeName ?? null, recipeHash: summary?.recipeHash ?? null },
      });
    } finally {
      cache.close();
    }
  }

  dispose(): void {
    this.base?.dispose();
    this.compressed?.session.dispose();
  }
}
