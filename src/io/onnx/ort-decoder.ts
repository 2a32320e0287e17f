// Runs an exported decoder in onnxruntime-web (or -node) with its KV cache, behind the same calls as our
// runtimes (forward / reset / position), so tests compare logits position by position and `generate` drives
// it for benchmarks. The ort module is passed in (a page imports it from wherever it is served), so this file
// carries only its types.
import type * as Ort from 'onnxruntime-web';
import type { ModelConfig } from '../../model/config';
import { f16ToF32 } from '../../model/half';

/** The parts of an onnxruntime module this needs (onnxruntime-web and onnxruntime-node both have them). */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession> };
  Tensor: new (type: 'int64' | 'float32' | 'float16', data: BigInt64Array | Float32Array | Uint16Array, dims: readonly number[]) => Ort.Tensor;
}

export interface OrtDecoderOptions {
  /** 'wasm', 'webgpu' (web), 'cpu' (node). */
  executionProvider: string;
  /** Most positions the cache may hold (default config.maxPositions). */
  maxPositions?: number;
  /** WebGPU: keep present.* on the GPU between steps (as transformers.js does) instead of reading them back. */
  kvOnGpu?: boolean;
  /** ONNX external data files, by the name the graph gives them. */
  externalData?: { path: string; data: Uint8Array }[];
  /** KV cache and logits type of the graph: 'float16' for model_fp16.onnx (default 'float32'). */
  floatType?: 'float32' | 'float16';
  /** Anything else for InferenceSession.create (log levels, graph optimization ...). */
  sessionOptions?: Ort.InferenceSession.SessionOptions;
}

export class OrtDecoder {
  /** What `generate` reads: 'webgpu' when the session runs on WebGPU, 'cpu' otherwise. */
  readonly kind: 'cpu' | 'webgpu';
  readonly maxPositions: number;
  private past: Ort.Tensor[] = [];
  private pos = 0;

  private constructor(
    private readonly ort: OrtModule, private readonly session: Ort.InferenceSession,
    readonly config: ModelConfig, private readonly opts: OrtDecoderOptions,
  ) {
    this.kind = opts.executionProvider === 'webgpu' ? 'webgpu' : 'cpu';
    this.maxPositions = Math.min(opts.maxPositions ?? config.maxPositions, config.maxPositions);
    this.reset();
  }

  static async create(ort: OrtModule, onnx: Uint8Array, config: ModelConfig, opts: OrtDecoderOptions): Promise<OrtDecoder> {
    const presents = Array.from({ length: config.numLayers }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat();
    const session = await ort.InferenceSession.create(onnx, {
      ...opts.sessionOptions,
      executionProviders: [opts.executionProvider],
      ...(opts.externalData ? { externalData: opts.externalData } : {}),
      ...(opts.kvOnGpu ? { preferredOutputLocation: Object.fromEntries(presents.map((p) => [p, 'gpu-buffer' as const])) } : {}),
    });
    return new OrtDecoder(ort, session, config, opts);
  }

  get position() {
    return this.pos;
  }

  /** Not tracked: ONNX Runtime owns its memory. */
  readonly memoryBytes = 0;

  reset() {
    this.disposePast();
    const c = this.config;
    const empty = () => (this.opts.floatType === 'float16'
      ? new this.ort.Tensor('float16', new Uint16Array(0), [1, c.numKvHeads, 0, c.headDim])
      : new this.ort.Tensor('float32', new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]));
    this.past = Array.from({ length: 2 * c.numLayers }, empty);
    this.pos = 0;
  }

  rewind(position: number) {
    if (position === this.pos) return;
    if (position !== 0) throw new RangeError(`OrtDecoder rewinds only to 0 (asked ${position}, at ${this.pos})`);
    this.reset();
  }

  /** Logits [n, vocab] (or [vocab] with lastOnly) for `tokens` at positions [position, position + n). */
  async forward(tokens: ArrayLike<number>, { lastOnly = false }: { lastOnly?: boolean } = {}): Promise<Float32Array> {
    const n = tokens.length;
    if (n === 0) throw new RangeError('forward needs at least one token');
    if (this.pos + n > this.maxPositions) throw new RangeError(`context overflow: ${this.pos} + ${n} tokens exceeds ${this.maxPositions} positions`);
    const { Tensor } = this.ort;
    const ids = BigInt64Array.from(Array.from(tokens, (t) => BigInt(t)));
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new Tensor('int64', ids, [1, n]),
      attention_mask: new Tensor('int64', new BigInt64Array(this.pos + n).fill(1n), [1, this.pos + n]),
      position_ids: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(this.pos + i)), [1, n]),
    };
    for (let l = 0; l < this.config.numLayers; l++) {
      feeds[`past_key_values.${l}.key`] = this.past[2 * l];
      feeds[`past_key_values.${l}.value`] = this.past[2 * l + 1];
    }
    const out = await this.session.run(feeds);
    this.disposePast();
    this.past = Array.from({ length: this.config.numLayers }, (_, l) => [out[`present.${l}.key`], out[`present.${l}.value`]]).flat();
    this.pos += n;
    const raw = await out.logits.getData();
    // float16 logits come as Uint16Array (or Float16Array where the platform has one)
    const logits = raw instanceof Float32Array ? raw
      : raw instanceof Uint16Array ? Float32Array.from(raw, f16ToF32) : Float32Array.from(raw as ArrayLike<number>);
    const V = this.config.vocabSize;
    return lastOnly ? logits.slice((n - 1) * V) : logits;
  }

  private disposePast() {
    if (this.opts.kvOnGpu) for (const t of this.past) if (t.location === 'gpu-buffer') t.dispose();
  }

  dispose() {
    this.disposePast();
    void this.session.release();
  }
}
