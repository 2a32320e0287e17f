// One loaded model ready to generate: model + tokenizer + runtime, and the glue between them.
// The browser worker (workers/lab.worker.ts) only wires this to comlink; Node hosts (CLI, tests) use it
// directly, passing the `webgpu` package's GPU object or `null` for the CPU reference.
import { loadModel } from '../io/load';
import { blobSource, type FileSet } from '../io/source';
import { requestGpuDevice } from '../gpu/device';
import { modelBytes, modelParams, type Model } from '../model/model';
import { numel } from '../model/tensor';
import { createTokenizer, textStream, type StreamableTokenizer } from '../model/tokenizer/index';
import { CpuRuntime } from './cpu-reference';
import { defaultStopTokens, generate } from './generate';
import type { Runtime } from './runtime';
import { WebGpuRuntime } from './webgpu';

export type Backend = Runtime['kind'];

export interface Progress {
  done: number;
  total: number;
  stage: string;
}

/** What the page shows about a loaded model; plain data (crosses the worker boundary). */
export interface ModelInfo {
  name: string;
  format: string;
  architecture: string;
  params: number;
  bytes: number;
  /** Tensor count and bytes per storage dtype, e.g. { f32: { tensors: 48, bytes: 1171456 } }. */
  dtypes: Record<string, { tensors: number; bytes: number; params: number }>;
  layers: number;
  hiddenSize: number;
  heads: number;
  kvHeads: number;
  vocabSize: number;
  contextLength: number;
  backend: Backend;
  /** Why the CPU reference runs instead of WebGPU; null when WebGPU is in use. */
  backendNotice: string | null;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export interface GenerateStats {
  /** Prompt (as decoded from its tokens) + completion. */
  text: string;
  /** The prompt as its tokens decode (what `text` starts with). */
  promptText: string;
  /** The completion alone. */
  completion: string;
  promptTokens: number;
  newTokens: number;
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  backend: Backend;
  /** Stopped by cancel() before maxNewTokens. */
  cancelled: boolean;
}

export interface SessionOptions {
  /** A WebGPU entry point (Node: the `webgpu` package's GPU); undefined = navigator.gpu; null = CPU reference only. */
  gpu?: GPU | null;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** KV-cache length (prompt + generated tokens); capped by the model's context. Default 2048. */
  maxPositions?: number;
}

const DEFAULT_MAX_POSITIONS = 2048;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The runtime as generate() sees it, giving the host's event loop a turn every `everyMs`: a CPU forward
 * pass resolves without ever leaving the microtask queue, so without this a worker would not see a
 * cancel message until generation ended.
 */
export function yielding(rt: Runtime, everyMs = 30): Runtime {
  let last = performance.now();
  const forward: Runtime['forward'] = async (tokens, opts) => {
    if (performance.now() - last > everyMs) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      last = performance.now();
    }
    return rt.forward(tokens, opts);
  };
  // Everything else goes straight to the runtime (methods bound to it, getters read live).
  return new Proxy(rt, {
    get(target, key) {
      if (key === 'forward') return forward;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** One device per WebGPU entry point, shared by the models loaded one after another; dropped when lost. */
const devices = new Map<GPU | undefined, Promise<GPUDevice>>();

function gpuDevice(gpu: GPU | undefined): Promise<GPUDevice> {
  let device = devices.get(gpu);
  if (!device) {
    device = requestGpuDevice(gpu);
    devices.set(gpu, device);
    device.then(
      (d) => d.lost.then(() => devices.delete(gpu)),
      () => devices.delete(gpu),
    );
  }
  return device;
}

export class LabSession {
  private constructor(
    readonly model: Model,
    readonly tokenizer: StreamableTokenizer,
    readonly runtime: Runtime,
    readonly backendNotice: string | null,
    /** Positions the runtime's KV cache holds: prompt + new tokens must fit. */
    readonly maxPositions: number,
  ) {}

  /** Import a model (GGUF, llama2.c .bin + tok512.bin, HF safetensors + config.json) and start a runtime. */
  static async load(files: FileSet, opts: SessionOptions = {}): Promise<LabSession> {
    if (files.size === 0) throw new Error('No model file given: choose a .gguf, a llama2.c .bin (+ tokenizer), or safetensors + config.json');
    return LabSession.fromModel(await loadModel(files, { onProgress: opts.onProgress, signal: opts.signal }), opts);
  }

  /** A session over a model already in memory (a compressed one, say): tokenizer and runtime as load() makes them. */
  static async fromModel(model: Model, opts: SessionOptions = {}): Promise<LabSession> {
    if (!model.tokenizer) {
      throw new Error(`${model.source.name}: the model has no tokenizer; add its tokenizer file (tokenizer.json, or tok512.bin for llama2.c)`);
    }
    const tokenizer = createTokenizer(model.tokenizer);
    const maxPositions = Math.min(opts.maxPositions ?? DEFAULT_MAX_POSITIONS, model.config.maxPositions);
    let runtime: Runtime;
    let notice: string | null = null;
    if (opts.gpu === null) {
      runtime = new CpuRuntime(model, { maxPositions });
      notice = 'WebGPU not requested; running the CPU reference (slow).';
    } else {
      try {
        opts.onProgress?.({ done: 0, total: 1, stage: 'uploading weights to the GPU' });
        const device = await gpuDevice(opts.gpu);
        runtime = await WebGpuRuntime.create(device, model, { maxPositions });
        opts.onProgress?.({ done: 1, total: 1, stage: 'uploading weights to the GPU' });
      } catch (e) {
        runtime = new CpuRuntime(model, { maxPositions });
        notice = `${message(e).replace(/\.$/, '')}. Running the CPU reference instead (slow).`;
      }
    }
    return new LabSession(model, tokenizer, runtime, notice, maxPositions);
  }

  get backend(): Backend {
    return this.runtime.kind;
  }

  info(): ModelInfo {
    const m = this.model;
    const c = m.config;
    const dtypes: ModelInfo['dtypes'] = {};
    for (const t of m.tensors.values()) {
      const d = (dtypes[t.dtype] ??= { tensors: 0, bytes: 0, params: 0 });
      d.tensors++;
      d.bytes += t.data.byteLength;
      d.params += numel(t.shape);
    }
    return {
      name: m.source.name,
      format: m.source.format,
      architecture: c.architecture,
      params: modelParams(m),
      bytes: modelBytes(m),
      dtypes,
      layers: c.numLayers,
      hiddenSize: c.hiddenSize,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      vocabSize: c.vocabSize,
      contextLength: this.maxPositions,
      backend: this.backend,
      backendNotice: this.backendNotice,
    };
  }

  /**
   * Generate from `prompt` (BOS first), streaming text pieces through `onText`. A cancel through `signal`
   * ends generation early and still returns what was produced, with `cancelled: true`.
   */
  async generate(
    prompt: string,
    opts: GenerateOptions,
    onText?: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<GenerateStats> {
    const promptIds = this.tokenizer.encode(prompt, { bos: true });
    if (promptIds.length === 0) throw new Error('The prompt encodes to no tokens and the tokenizer has no BOS token');
    const room = this.maxPositions - promptIds.length;
    if (room <= 0) {
      throw new Error(`The prompt is ${promptIds.length} tokens; the context holds ${this.maxPositions}`);
    }
    const maxNewTokens = Math.max(0, Math.min(Math.floor(opts.maxNewTokens), room));
    const stream = textStream(this.tokenizer);
    for (const id of promptIds) stream.push(id);
    let streamed = '';
    const produced: number[] = [];
    this.runtime.reset();
    const t0 = performance.now();
    let firstTokenAt = 0;
    let cancelled = false;
    let result: Awaited<ReturnType<typeof generate>> | null = null;
    try {
      result = await generate(yielding(this.runtime), promptIds, {
        maxNewTokens,
        temperature: opts.temperature ?? 0,
        topK: opts.topK,
        topP: opts.topP,
        seed: opts.seed,
        stopTokens: defaultStopTokens(this.tokenizer),
        signal,
        onToken: (id) => {
          if (produced.length === 0) firstTokenAt = performance.now();
          produced.push(id);
          const delta = stream.push(id);
          streamed += delta;
          if (delta) onText?.(delta);
        },
      });
    } catch (e) {
      if (!signal?.aborted) throw e;
      cancelled = true;
    }
    if (signal?.aborted) cancelled = true;
    const tail = stream.flush();
    if (tail) onText?.(tail);
    streamed += tail;
    // The whole decode is the authority (the stream holds back split characters, then flushes them).
    const promptText = this.tokenizer.decode(promptIds);
    const text = this.tokenizer.decode([...promptIds, ...produced]);
    // After a cancel the runtime's own timings are lost; estimate from wall clock (first token = end of prefill).
    const end = performance.now();
    const prefillMs = result?.prefillMs ?? (firstTokenAt ? firstTokenAt - t0 : end - t0);
    const decodeMs = result?.decodeMs ?? (firstTokenAt ? end - firstTokenAt : 0);
    const decoded = Math.max(0, produced.length - 1);
    return {
      text,
      promptText,
      completion: text.startsWith(promptText) ? text.slice(promptText.length) : streamed,
      promptTokens: promptIds.length,
      newTokens: produced.length,
      prefillMs,
      decodeMs,
      prefillTokensPerSecond: result?.prefillTokensPerSecond ?? (prefillMs > 0 ? (promptIds.length / prefillMs) * 1000 : 0),
      decodeTokensPerSecond: result?.decodeTokensPerSecond ?? (decodeMs > 0 ? (decoded / decodeMs) * 1000 : 0),
      backend: this.backend,
      cancelled,
    };
  }

  dispose(): void {
    this.runtime.dispose();
  }
}

/** The browser's model files: a FileSet over File objects (read lazily, slice by slice). */
export function fileSetFromFiles(files: readonly File[]): FileSet {
  return new Map(files.map((f) => [f.name, blobSource(f, f.name)]));
}

/** Download one file (e.g. the bundled demo model) with progress; the name is the URL's last path segment unless given. */
export async function fetchFileSet(
  url: string,
  opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal; name?: string } = {},
): Promise<FileSet> {
  // A content-addressed URL (a market blob) says nothing of the format: the caller names the file then.
  const name = opts.name ?? (decodeURIComponent(new URL(url, globalThis.location?.href ?? 'http://localhost/').pathname.split('/').pop() || 'model'));
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new Error(`Could not download ${url}: ${message(e)}`);
  }
  if (!res.ok) throw new Error(`Could not download ${url}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length')) || 0;
  const stage = `downloading ${name}`;
  const chunks: Uint8Array[] = [];
  let done = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done: finished, value } = await reader.read();
      if (finished) break;
      chunks.push(value);
      done += value.byteLength;
      opts.onProgress?.({ done, total: Math.max(total, done), stage });
    }
  } else {
    chunks.push(new Uint8Array(await res.arrayBuffer()));
  }
  const blob = new Blob(chunks as BlobPart[]);
  return new Map([[name, blobSource(blob, name)]]);
}
