// Page state for the lab's first page: load a model in the worker, generate, stream, stop.
// Components read these fields and call these methods; all work happens in workers/lab.worker.ts.
import * as Comlink from 'comlink';
import type { LabApi, ModelSource } from '../../workers/lab.worker';
import type { GenerateStats, ModelInfo, Progress } from '../runtime/session';

export const BUNDLED_MODEL = { url: '/models/stories260K.gguf', label: 'stories260K · 1.1 MiB · TinyStories · MIT' };

type Phase = 'idle' | 'loading' | 'ready' | 'generating';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class LabState {
  phase = $state<Phase>('idle');
  progress = $state<Progress | null>(null);
  info = $state<ModelInfo | null>(null);
  error = $state<string | null>(null);

  prompt = $state('Once upon a time');
  maxTokens = $state(64);
  temperature = $state(0);

  /** The prompt as the tokenizer reads it back, then the streamed completion. */
  outputPrompt = $state('');
  output = $state('');
  stats = $state<GenerateStats | null>(null);

  private readonly api: Comlink.Remote<LabApi>;

  constructor(worker: Worker) {
    this.api = Comlink.wrap<LabApi>(worker);
    worker.addEventListener('error', (e) => {
      this.error = `The lab worker failed: ${e.message || 'it could not start (see the browser console)'}`;
      this.phase = this.info ? 'ready' : 'idle';
    });
  }

  get busy(): boolean {
    return this.phase === 'loading' || this.phase === 'generating';
  }

  get canGenerate(): boolean {
    return this.phase === 'ready' && this.info !== null && this.prompt.length > 0 && this.maxTokens > 0;
  }

  loadBundled(): Promise<void> {
    return this.load({ kind: 'url', url: BUNDLED_MODEL.url });
  }

  loadFiles(files: FileList | File[] | null | undefined): Promise<void> {
    const list = [...(files ?? [])];
    if (list.length === 0) return Promise.resolve();
    return this.load({ kind: 'files', files: list });
  }

  private async load(source: ModelSource): Promise<void> {
    if (this.busy) return;
    this.phase = 'loading';
    this.error = null;
    this.progress = null;
    try {
      const info = await this.api.load(source, Comlink.proxy((p: Progress) => (this.progress = p)));
      this.info = info;
      this.output = '';
      this.outputPrompt = '';
      this.stats = null;
    } catch (e) {
      const what = source.kind === 'url' ? source.url : source.files.map((f) => f.name).join(', ');
      // Importers name the file themselves ("bad.gguf: not a valid GGUF file: ..."); say it once.
      const msg = message(e);
      this.error = `Could not load ${what}: ${msg.startsWith(`${what}: `) ? msg.slice(what.length + 2) : msg}`;
    } finally {
      this.progress = null;
      this.phase = this.info ? 'ready' : 'idle';
    }
  }

  async generate(): Promise<void> {
    if (!this.canGenerate) return;
    this.phase = 'generating';
    this.error = null;
    this.stats = null;
    this.outputPrompt = this.prompt;
    this.output = '';
    // Streamed pieces travel on their own channel and may trail the result; ignore any after it.
    let live = true;
    const maxNewTokens = Math.max(1, Math.floor(Number(this.maxTokens) || 1));
    const temperature = Math.max(0, Number(this.temperature) || 0);
    try {
      const stats = await this.api.generate(
        this.prompt,
        { maxNewTokens, temperature },
        Comlink.proxy((text: string) => {
          if (live) this.output += text;
        }),
      );
      live = false;
      // The streamed pieces are final except for a held-back partial character; settle on the full decode.
      this.outputPrompt = stats.promptText;
      this.output = stats.completion;
      this.stats = stats;
    } catch (e) {
      live = false;
      this.error = `Generation failed: ${message(e)}`;
    } finally {
      this.phase = 'ready';
    }
  }

  stop(): void {
    if (this.busy) void this.api.cancel();
  }
}
