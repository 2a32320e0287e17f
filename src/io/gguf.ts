// GGUF reader: header and metadata through @huggingface/gguf, tensor data streamed one tensor at a time.
import { gguf } from '@huggingface/gguf';
import { resolveArchitecture, ARCHITECTURES } from '../model/architectures';
import { validateConfig, type ModelConfig } from '../model/config';
import { dtypeFromGgml, byteSize } from '../model/dtype';
import { checkComplete, type Model } from '../model/model';
import { canonicalFromGguf } from '../model/names';
import { makeTensor, numel, type Tensor } from '../model/tensor';
import { spmSpecFromGgufMetadata } from '../model/tokenizer/gguf-vocab';
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { FormatError, throwIfAborted, type LoadOptions } from './errors';
import type { ByteSource } from './source';

export const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

type Metadata = Record<string, unknown>;

/** @huggingface/gguf reads through fetch with Range headers; serve those from any ByteSource. */
function fetchFrom(src: ByteSource): typeof fetch {
  return (async (_url: unknown, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('range');
    const m = range ? /bytes=(\d+)-(\d*)/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    const end = Math.min(m && m[2] ? Number(m[2]) + 1 : src.size, src.size);
    const body = start < end ? await src.read(start, end - start) : new Uint8Array(0);
    return new Response(body as BodyInit, { status: m ? 206 : 200 });
  }) as typeof fetch;
}

export interface GgufHeader {
  metadata: Metadata;
  tensorInfos: { name: string; shape: number[]; ggmlType: number; offset: number }[];
  dataOffset: number;
}

export async function readGgufHeader(src: ByteSource): Promise<GgufHeader> {
  let parsed;
  try {
    parsed = await gguf(`http://local/${encodeURIComponent(src.name)}`, { fetch: fetchFrom(src) });
  } catch (e) {
    // the library's own messages start with the same phrase our FormatError adds
    throw new FormatError('GGUF', src.name, (e as Error).message.replace(/^not a valid gguf file: /i, ''));
  }
  const meta = parsed.metadata as unknown as Metadata;
  // The parser reads past the end of a truncated file as if it held zeros; the byte ranges tell us.
  const headerEnd = Number(parsed.tensorInfoByteRange?.[1] ?? parsed.tensorDataOffset);
  if (headerEnd > src.size || parsed.tensorInfos.length !== Number(meta.tensor_count)) {
    throw new FormatError('GGUF', src.name, `header is truncated: it runs to byte ${headerEnd} but the file has ${src.size}`);
  }
  return {
    metadata: meta,
    dataOffset: Number(parsed.tensorDataOffset),
    tensorInfos: parsed.tensorInfos.map((t) => ({
      name: t.name,
      // ggml lists dims innermost first (ne0 = row length); ours are outermost first.
      shape: t.shape.map(Number).reverse(),
      ggmlType: t.dtype as number,
      offset: Number(t.offset),
    })),
  };
}

/** GGUF stores these as f32; show 1e-5 rather than 9.99999974e-6 (7 digits is f32's precision). */
const f32Decimal = (v: number) => Number(v.toPrecision(7));

function configFromGguf(meta: Metadata, embedRows: number | undefined, file: string): ModelConfig {
  const archName = String(meta['general.architecture'] ?? '');
  const arch = resolveArchitecture(archName, file);
  const traits = ARCHITECTURES[arch];
  const key = (k: string) => meta[`${archName}.${k}`];
  const num = (k: string, fallback?: number) => {
    const v = key(k);
    if (v === undefined) {
      if (fallback === undefined) throw new FormatError('GGUF', file, `metadata key ${archName}.${k} is missing`);
      return fallback;
    }
    return Number(v);
  };
  const tokens = meta['tokenizer.ggml.tokens'] as unknown[] | undefined;
  const hidden = num('embedding_length');
  const heads = num('attention.head_count');
  const optId = (k: string) => (meta[k] === undefined ? null : Number(meta[k]));
  return validateConfig({
    architecture: arch,
    hiddenSize: hidden,
    intermediateSize: num('feed_forward_length'),
    numLayers: num('block_count'),
    numHeads: heads,
    numKvHeads: num('attention.head_count_kv', heads),
    headDim: num('attention.key_length', hidden / heads),
    vocabSize: num('vocab_size', embedRows ?? tokens?.length),
    maxPositions: num('context_length'),
    rmsNormEps: f32Decimal(num('attention.layer_norm_rms_epsilon')),
    ropeTheta: f32Decimal(num('rope.freq_base', traits.defaultRopeTheta)),
    ropeStyle: traits.ggufRopeStyle,
    attentionBias: traits.attentionBias,
    tieWordEmbeddings: false, // decided from the tensor list below
    bosTokenId: optId('tokenizer.ggml.bos_token_id'),
    eosTokenId: optId('tokenizer.ggml.eos_token_id'),
  });
}

function tokenizerFromGguf(meta: Metadata): TokenizerSpec | undefined {
  const kind = meta['tokenizer.ggml.model'];
  if (kind === 'llama') return spmSpecFromGgufMetadata(meta);
  return undefined; // byte-level BPE (gpt2) vocabularies arrive with the HF tokenizer path
}

export async function readGguf(src: ByteSource, opts: LoadOptions = {}): Promise<Model> {
  const header = await readGgufHeader(src);
  const embedRows = header.tensorInfos.find((t) => t.name === 'token_embd.weight')?.shape[0];
  const config = configFromGguf(header.metadata, embedRows, src.name);
  const alignment = Number(header.metadata['general.alignment'] ?? 32);
  if (header.dataOffset % alignment !== 0) {
    throw new FormatError('GGUF', src.name, `tensor data offset ${header.dataOffset} is not aligned to ${alignment}`);
  }
  const tensors = new Map<string, Tensor>();
  const infos = header.tensorInfos;
  for (let i = 0; i < infos.length; i++) {
    throwIfAborted(opts.signal);
    const info = infos[i];
    const name = canonicalFromGguf(info.name);
    if (!name) continue; // rope_freqs and other derived tables: we compute them
    const dtype = dtypeFromGgml(info.ggmlType);
    if (!dtype) throw new FormatError('GGUF', src.name, `tensor ${info.name} has ggml type ${info.ggmlType}, which this lab does not read yet`);
    const bytes = byteSize(dtype.id, numel(info.shape));
    const start = header.dataOffset + info.offset;
    if (start + bytes > src.size) {
      throw new FormatError('GGUF', src.name, `file is truncated: tensor ${info.name} needs bytes up to ${start + bytes}, file has ${src.size}`);
    }
    tensors.set(name, makeTensor(name, info.shape, dtype.id, await src.read(start, bytes)));
    opts.onProgress?.({ done: i + 1, total: infos.length, stage: 'tensors' });
  }
  const tied = !tensors.has('lm_head.weight');
  const finalConfig = { ...config, tieWordEmbeddings: tied };
  checkComplete(finalConfig, tensors, src.name);
  return { config: finalConfig, tensors, tokenizer: tokenizerFromGguf(header.metadata), source: { format: 'gguf', name: src.name } };
}
