// Page state of the Lab: load a model, build a recipe from the pass registry, run it, evaluate, compare, export.
// Components read these fields and call these methods; every heavy step runs in the lab worker.
import type { Result } from '../eval/result';
import type { Catalog, JsonSchema } from '../lab/catalog';
import type { Progress } from '../lab/compress';
import { DEFAULT_DATA, type DataRef } from '../lab/data';
import type { ExportFormatId } from '../lab/exports';
import type { SensitivityCell } from '../lab/sensitivity';
import type { CompressSummary, Which } from '../lab/workspace';
import type { DTypeId } from '../model/dtype';
import type { GenerateStats, ModelInfo } from '../runtime/session';
import type { StoredEntry } from '../store/cache';
import type { ModelSource } from '../../workers/lab.worker';
import { download } from './download';
import { message, proxy, startLabWorker, type LabRemote } from './worker';

export const BUNDLED_MODEL = { url: '/models/stories260K.gguf', label: 'stories260K · 1.1 MiB · TinyStories · MIT' };

type Phase = 'idle' | 'loading' | 'ready' | 'generating' | 'compressing' | 'evaluating' | 'measuring' | 'exporting' | 'training';

/** What the one operation in flight is doing, said beside the buttons it disables. */
const BUSY: Record<Phase, string> = {
  idle: '', ready: '', loading: 'Loading a model', generating: 'Generating text', compressing: 'Running the recipe',
  evaluating: 'Evaluating', measuring: 'Measuring sensitivity', exporting: 'Exporting', training: 'Training (Heal / distill)',
};

export interface Step { pass: string; params: Record<string, unknown> }

/** One evaluated model: a point of the size vs quality plot. */
export interface Evaluated { label: string; which: Which; result: Result }

/** Default value of one schema property (what a form starts with). */
export function defaultOf(s: JsonSchema): unknown {
  if (s.default !== undefined) return $state.snapshot(s.default);
  if (s.enum) return s.enum[0];
  return s.type === 'boolean' ? false : s.type === 'number' || s.type === 'integer' ? (s.minimum ?? 0) : s.type === 'object' ? {} : s.type === 'array' ? [] : '';
}

export class LabState {
  phase = $state<Phase>('idle');
  progress = $state<Progress | null>(null);
  info = $state<ModelInfo | null>(null);
  error = $state<string | null>(null);
  /** What the last operation ended with when that is not an error ("Cancelled."). */
  notice = $state<string | null>(null);
  catalog = $state<Catalog | null>(null);
  data = $state<DataRef>(DEFAULT_DATA);

  // generation: base and, once there is one, the compressed model on the same prompt
  prompt = $state('Once upon a time');
  maxTokens = $state(64);
  temperature = $state(0);
  outputPrompt = $state('');
  output = $state('');
  stats = $state<GenerateStats | null>(null);
  compressedOutput = $state('');
  compressedStats = $state<GenerateStats | null>(null);

  // recipe
  recipeName = $state('my-recipe');
  steps = $state<Step[]>([]);
  calibrationSource = $state('tinystories');
  compressed = $state<CompressSummary | null>(null);

  // evaluation
  evalTasks = $state<string[]>(['tinystories']);
  evalLimit = $state(2);
  kld = $state(true);
  evaluated = $state<Evaluated[]>([]);

  // sensitivity and exports
  sensitivityDtype = $state<DTypeId>('q4_0');
  sensitivity = $state<SensitivityCell[] | null>(null);
  exported = $state<string[]>([]);
  saved = $state<StoredEntry | null>(null);

  readonly api: LabRemote;

  constructor() {
    this.api = startLabWorker('lab', (m) => {
      this.error = m;
      this.phase = this.info ? 'ready' : 'idle';
    }).api;
    this.api.catalog().then((c) => {
      this.catalog = c;
      if (this.steps.length === 0) this.addStep('rtn');
    }, (e) => (this.error = `Could not read the pass registry: ${message(e)}`));
  }

  get busy(): boolean {
    return this.phase !== 'idle' && this.phase !== 'ready';
  }

  /** Why the Lab's buttons are disabled now, or null when nothing runs. */
  get busyReason(): string | null {
    return this.busy ? `${BUSY[this.phase]}: other actions wait until it ends or is cancelled.` : null;
  }

  get canGenerate(): boolean {
    return this.phase === 'ready' && this.info !== null && this.prompt.length > 0 && this.maxTokens > 0;
  }

  get ready(): boolean {
    return this.phase === 'ready' && this.info !== null;
  }

  /**
   * Run `work` as the one operation in flight (the worker runs one at a time: another would cancel it): phase,
   * progress, errors shown (never swallowed); a cancel ends with `cancelled` as the notice.
   */
  async run<T>(phase: Phase, what: string, work: (onProgress: (p: Progress) => void) => Promise<T>, cancelled = 'Cancelled.'): Promise<T | undefined> {
    if (this.busy) return undefined;
    this.phase = phase;
    this.error = this.notice = null;
    this.progress = null;
    this.cancelled = false;
    try {
      return await work(proxy((p: Progress) => (this.progress = p)));
    } catch (e) {
      // A cancel the user asked for is an outcome, not an error; anything else is shown as it is.
      if (this.cancelled || (e as Error)?.name === 'AbortError') this.notice = cancelled;
      else this.error = `${what}: ${message(e)}`;
      return undefined;
    } finally {
      this.progress = null;
      this.phase = this.info ? 'ready' : 'idle';
    }
  }

  loadBundled(): Promise<void> {
    return this.load({ kind: 'url', url: BUNDLED_MODEL.url });
  }

  loadFiles(files: FileList | File[] | null | undefined): Promise<void> {
    const list = [...(files ?? [])];
    if (list.length === 0) return Promise.resolve();
    return this.load({ kind: 'files', files: list });
  }

  /** A URL of one model file, or a Hugging Face repo id (owner/name, owner/name/file.gguf). */
  loadRemote(text: string): Promise<void> {
    const t = text.trim();
    if (!t) return Promise.resolve();
    return this.load(/^https?:\/\//.test(t) && !/^https?:\/\/huggingface\.co\//.test(t) ? { kind: 'url', url: t } : { kind: 'hf', ref: t });
  }

  loadCached(id: string): Promise<void> {
    return this.load({ kind: 'cache', id });
  }

  async load(source: ModelSource): Promise<void> {
    const what = source.kind === 'url' ? (source.name ?? source.url) : source.kind === 'cache' ? `cached ${source.id}` : source.kind === 'hf' ? source.ref : source.files.map((f) => f.name).join(', ');
    const info = await this.run('loading', `Could not load ${what}`, (onProgress) => this.api.load(source, onProgress));
    if (!info) {
      // Importers name the file themselves ("bad.gguf: not a valid GGUF file: ..."); say it once.
      if (this.error?.startsWith(`Could not load ${what}: ${what}: `)) this.error = this.error.replace(`${what}: ${what}: `, `${what}: `);
      return;
    }
    this.info = info;
    this.phase = 'ready';
    this.output = this.outputPrompt = this.compressedOutput = '';
    this.stats = this.compressedStats = null;
    this.compressed = null;
    this.evaluated = [];
    this.sensitivity = null;
    this.saved = null;
    this.exported = [];
  }

  // ---- recipe builder --------------------------------------------------------------------------------

  passInfo(id: string) {
    return this.catalog?.passes.find((p) => p.id === id);
  }

  addStep(pass: string): void {
    const info = this.passInfo(pass);
    if (!info) return;
    const params: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(info.schema.properties ?? {})) params[k] = defaultOf(s);
    this.steps.push({ pass, params });
  }

  removeStep(i: number): void {
    this.steps.splice(i, 1);
  }

  moveStep(i: number, by: -1 | 1): void {
    const j = i + by;
    if (j < 0 || j >= this.steps.length) return;
    [this.steps[i], this.steps[j]] = [this.steps[j], this.steps[i]];
  }

  /** Start from a named recipe of static/recipes (its params over each pass's defaults). */
  useRecipe(file: string): void {
    const r = this.catalog?.recipes.find((x) => x.file === file);
    if (!r) return;
    const json = r.json as { name: string; passes: { pass: string; params?: Record<string, unknown> }[]; calibration?: { source?: string } };
    this.recipeName = json.name;
    this.steps = [];
    for (const s of json.passes) {
      this.addStep(s.pass);
      Object.assign(this.steps[this.steps.length - 1].params, s.params ?? {});
    }
    this.calibrationSource = json.calibration?.source ?? 'tinystories';
  }

  get recipeJson() {
    return {
      schema: 'lab.recipe/1', name: this.recipeName.trim() || 'recipe',
      calibration: { source: this.calibrationSource },
      passes: this.steps.map((s) => ({ pass: s.pass, params: $state.snapshot(s.params) })),
    };
  }

  get needsCalibration(): boolean {
    return this.steps.some((s) => this.passInfo(s.pass)?.needsCalibration);
  }

  async compress(): Promise<void> {
    const recipe = this.recipeJson;
    const data = $state.snapshot(this.data) as DataRef;
    const s = await this.run('compressing', 'The recipe failed', (p) => this.api.compress(recipe, data, p));
    if (!s) return;
    this.compressed = s;
    this.compressedOutput = '';
    this.compressedStats = null;
    this.saved = null;
    this.exported = [];
    // Keep every result: the compressed artifact goes to the IndexedDB cache (the Cache page lists and deletes).
    await this.saveToCache('compressed');
  }

  /** The compressed model is now the healed one (its own recipe and hash): outputs of the old one are stale. */
  healed(summary: CompressSummary): void {
    this.compressed = summary;
    this.compressedOutput = '';
    this.compressedStats = null;
    this.saved = null;
    this.exported = [];
  }

  private cancelled = false;

  cancel(): void {
    if (!this.busy) return;
    this.cancelled = true;
    void this.api.cancel();
  }

  stop(): void {
    this.cancel();
  }

  // ---- evaluation ------------------------------------------------------------------------------------

  async evaluate(which: Which): Promise<void> {
    const req = { tasks: [...this.evalTasks], limit: Math.max(1, Math.floor(Number(this.evalLimit) || 1)), data: $state.snapshot(this.data) as DataRef, kld: which === 'compressed' && this.kld };
    const result = await this.run('evaluating', `Evaluating the ${which} model failed`, (p) => this.api.evaluate(which, req, p));
    if (!result) return;
    const label = which === 'base' ? (this.info?.name ?? 'base') : (this.compressed?.recipeName ?? 'compressed');
    this.evaluated = [...this.evaluated.filter((e) => e.label !== label), { label, which, result }];
  }

  async evaluateBoth(): Promise<void> {
    if (!this.evaluated.some((e) => e.which === 'base')) await this.evaluate('base');
    if (this.compressed && !this.error) await this.evaluate('compressed');
  }

  async measureSensitivity(): Promise<void> {
    const dtype = this.sensitivityDtype;
    const data = $state.snapshot(this.data) as DataRef;
    const cells = await this.run('measuring', 'Sensitivity failed', (p) => this.api.sensitivity(dtype, data, p));
    if (cells) this.sensitivity = cells;
  }

  // ---- generation ------------------------------------------------------------------------------------

  async generate(): Promise<void> {
    if (!this.canGenerate) return;
    const prompt = this.prompt;
    const opts = { maxNewTokens: Math.max(1, Math.floor(Number(this.maxTokens) || 1)), temperature: Math.max(0, Number(this.temperature) || 0) };
    this.outputPrompt = prompt;
    this.output = this.compressedOutput = '';
    this.stats = this.compressedStats = null;
    await this.run('generating', 'Generation failed', async () => {
      // Streamed pieces travel on their own channel and may trail the result; ignore any after it.
      let live = true;
      const stats = await this.api.generate('base', prompt, opts, proxy((t: string) => void (live && (this.output += t))));
      live = false;
      // The streamed pieces are final except for a held-back partial character; settle on the full decode.
      this.outputPrompt = stats.promptText;
      this.output = stats.completion;
      this.stats = stats;
      if (!this.compressed || stats.cancelled) return;
      let live2 = true;
      const c = await this.api.generate('compressed', prompt, opts, proxy((t: string) => void (live2 && (this.compressedOutput += t))));
      live2 = false;
      this.compressedOutput = c.completion;
      this.compressedStats = c;
    });
  }

  // ---- exports and cache -----------------------------------------------------------------------------

  async exportAs(format: ExportFormatId, which: Which = this.compressed ? 'compressed' : 'base'): Promise<void> {
    const out = await this.run('exporting', `Export failed`, () => this.api.exportDownload(which, format));
    if (!out) return;
    download(out.blob, out.path);
    this.exported = [...this.exported, out.files.length > 1 ? `${out.path} (${out.files.join(', ')})` : out.path];
  }

  async saveToCache(which: Which = 'compressed'): Promise<void> {
    const entry = await this.run('exporting', 'Saving to the cache failed', (p) => this.api.saveToCache(which, p));
    if (entry) this.saved = entry;
  }
}
