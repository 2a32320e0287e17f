// Model IR -> an HF model folder: config.json, generation_config.json, tokenizer.json, tokenizer_config.json
// and safetensors shards (+ model.safetensors.index.json when sharded), as transformers, transformers.js and
// our own importer read them. Files come back as lists of byte parts (header, then each tensor's bytes as
// stored), never joined, so a model larger than any one ArrayBuffer can be written out piece by piece.
import { DTYPES } from '../model/dtype';
import type { Model } from '../model/model';
import { convertRopeStyle } from '../model/rope-permute';
import { f32Tensor, toFloat32, type Tensor } from '../model/tensor';
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { hfConfigFrom } from './hf-config';

/** One file of an exported folder: its path inside the folder and its bytes as parts written back to back. */
export interface ExportFile {
  readonly path: string;
  readonly parts: readonly Uint8Array[];
  readonly bytes: number;
}

export function exportFile(path: string, data: Uint8Array | readonly Uint8Array[] | string | object): ExportFile {
  const parts = data instanceof Uint8Array ? [data]
    : Array.isArray(data) ? (data as Uint8Array[])
    : [new TextEncoder().encode(typeof data === 'string' ? data : JSON.stringify(data, null, 2) + '\n')];
  return { path, parts, bytes: parts.reduce((s, p) => s + p.byteLength, 0) };
}

/** A file's bytes joined (small files, tests). */
export function fileBytes(f: ExportFile): Uint8Array {
  if (f.parts.length === 1) return f.parts[0];
  const out = new Uint8Array(f.bytes);
  let p = 0;
  for (const part of f.parts) {
    out.set(part, p);
    p += part.byteLength;
  }
  return out;
}

type SpmSpec = Extract<TokenizerSpec, { kind: 'spm' }>;

/** GGUF token types when a vocabulary has none: byte pieces, the unknown token, BOS/EOS as control. */
function tokenTypes(spec: SpmSpec): number[] {
  if (spec.types) return spec.types;
  return spec.pieces.map((p, i) => (i === spec.unkId ? 2 : i === spec.bosId || i === spec.eosId ? 3 : /^<0x[0-9A-Fa-f]{2}>$/.test(p) ? 6 : 1));
}

/**
 * A Llama-style tokenizer.json (BPE with byte fallback) for a SentencePiece BPE vocabulary, as HF's
 * LlamaConverter writes it: every split of a normal piece into two normal pieces is a merge, ranked by the
 * merged piece's score (ties by the ids of the halves), so BPE merging reproduces SentencePiece's.
 */
export function llamaTokenizerJson(spec: SpmSpec): Record<string, unknown> {
  const sp = (p: string) => p.replaceAll(' ', '\u2581');
  const types = tokenTypes(spec);
  const vocab: Record<string, number> = {};
  spec.pieces.forEach((p, i) => (vocab[sp(p)] = i));
  const normal = (p: string) => vocab[p] !== undefined && types[vocab[p]] === 1;
  const merges: { l: string; r: string; score: number }[] = [];
  spec.pieces.forEach((raw, i) => {
    if (types[i] !== 1) return;
    const chars = Array.from(sp(raw));
    const local: { l: string; r: string; score: number }[] = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join('');
      const r = chars.slice(k).join('');
      if (normal(l) && normal(r)) local.push({ l, r, score: spec.scores[i] });
    }
    local.sort((a, b) => vocab[a.l] - vocab[b.l] || vocab[a.r] - vocab[b.r]);
    merges.push(...local);
  });
  merges.sort((a, b) => b.score - a.score); // stable, as Python's sorted
  const specialIds = spec.pieces.map((_, i) => i).filter((i) => types[i] === 2 || types[i] === 3 || types[i] === 4);
  const special = (id: number) => ({
    id, content: spec.pieces[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: types[id] !== 4,
  });
  const bos = spec.bosId != null ? spec.pieces[spec.bosId] : undefined;
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const bosItem = bos ? [{ SpecialToken: { id: bos, type_id: 0 } }] : [];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialIds.map(special),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        ...(spec.addDummyPrefix ? [{ type: 'Prepend', prepend: '\u2581' }] : []),
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [...bosItem, seq('A', 0)],
      pair: [...bosItem, seq('A', 0), ...(bos ? [{ SpecialToken: { id: bos, type_id: 1 } }] : []), seq('B', 1)],
      special_tokens: bos ? { [bos]: { id: bos, ids: [spec.bosId], tokens: [bos] } } : {},
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        ...(spec.addDummyPrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: spec.unkId != null ? spec.pieces[spec.unkId] : null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: merges.map((m) => [m.l, m.r]),
    },
  };
}

/** tokenizer_config.json for a Llama-style tokenizer.json made by llamaTokenizerJson. */
export function llamaTokenizerConfig(spec: SpmSpec, maxLength: number): Record<string, unknown> {
  const piece = (id: number | null) => (id != null ? spec.pieces[id] : null);
  const types = tokenTypes(spec);
  const decoderEntries = spec.pieces.map((p, i) => [i, p] as const).filter(([i]) => types[i] === 2 || types[i] === 3 || types[i] === 4);
  return {
    tokenizer_class: 'LlamaTokenizer',
    add_bos_token: spec.bosId != null,
    add_eos_token: false,
    bos_token: piece(spec.bosId),
    eos_token: piece(spec.eosId),
    unk_token: piece(spec.unkId),
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: maxLength,
    added_tokens_decoder: Object.fromEntries(decoderEntries.map(([i, p]) => [String(i), {
      content: p, lstrip: false, normalized: false, rstrip: false, single_word: false, special: types[i] !== 4,
    }])),
  };
}

/** tokenizer.json + tokenizer_config.json for the model's tokenizer (an HF one is passed through). */
export function hfTokenizerFiles(tok: TokenizerSpec, maxLength: number): { tokenizerJson: object; tokenizerConfig: object } {
  if (tok.kind === 'hf') {
    return { tokenizerJson: tok.tokenizerJson as object, tokenizerConfig: (tok.tokenizerConfig as object | undefined) ?? { model_max_length: maxLength } };
  }
  return { tokenizerJson: llamaTokenizerJson(tok), tokenizerConfig: llamaTokenizerConfig(tok, maxLength) };
}

export function generationConfig(model: Model): Record<string, unknown> {
  const c = model.config;
  return {
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    max_length: c.maxPositions,
    do_sample: false,
    transformers_version: '4.46.0',
  };
}

/**
 * config.json, generation_config.json and the tokenizer files every HF-style folder shares. `extra` is merged
 * into config.json (transformers.js_config, for one).
 */
export function hfMetadataFiles(model: Model, extra: Record<string, unknown> = {}): ExportFile[] {
  const config = { ...hfConfigFrom({ ...model.config, ropeStyle: 'half' }), use_cache: true, ...extra };
  const files = [exportFile('config.json', config), exportFile('generation_config.json', generationConfig(model))];
  if (model.tokenizer) {
    const { tokenizerJson, tokenizerConfig } = hfTokenizerFiles(model.tokenizer, model.config.maxPositions);
    files.push(exportFile('tokenizer.json', tokenizerJson), exportFile('tokenizer_config.json', tokenizerConfig));
  }
  return files;
}

/** A safetensors file as parts: the 8-byte length, the JSON header (space-padded to 8 bytes), each tensor's bytes. */
export function safetensorsParts(tensors: readonly Tensor[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array[] {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    const dtype = DTYPES[t.dtype].safetensors;
    if (!dtype) throw new Error(`safetensors: ${t.name} is ${t.dtype}, which has no safetensors dtype (dequantize it first)`);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  return [len, head, ...tensors.map((t) => t.data)];
}

export interface HfExportOptions {
  /** Shards hold at most this many tensor bytes (default 2 GiB); one shard is model.safetensors. */
  maxShardBytes?: number;
  /** Quantized tensors have no HF dtype: they are dequantized to this (default f32); floats keep theirs. */
  dequantizeTo?: 'f32' | 'f16';
}

/**
 * An HF checkpoint folder: q/k rows in rotate_half order, every tensor in an HF dtype (block-quantized ones
 * dequantized), sharded by size, plus config, generation config and tokenizer files.
 */
export function exportHfFolder(input: Model, opts: HfExportOptions = {}): ExportFile[] {
  const model = convertRopeStyle(input, 'half');
  const maxShard = opts.maxShardBytes ?? 2 ** 31;
  const tensors = [...model.tensors.values()].map((t): Tensor => {
    if (DTYPES[t.dtype].safetensors) return t;
    const f = f32Tensor(t.name, t.shape, toFloat32(t));
    if (opts.dequantizeTo !== 'f16') return f;
    const data = new Uint8Array(f.data.byteLength / 2);
    DTYPES.f16.encode(toFloat32(f), data, f.data.byteLength / 4);
    return { name: t.name, shape: t.shape, dtype: 'f16', data };
  });
  const shards: Tensor[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    if (size > 0 && size + t.data.byteLength > maxShard) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += t.data.byteLength;
  }
  const files = hfMetadataFiles(model);
  if (shards.length === 1) return [...files, exportFile('model.safetensors', safetensorsParts(shards[0]))];
  const n = shards.length;
  const name = (i: number) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
  const weightMap: Record<string, string> = {};
  shards.forEach((s, i) => s.forEach((t) => (weightMap[t.name] = name(i))));
  const totalSize = tensors.reduce((s, t) => s + t.data.byteLength, 0);
  return [
    ...files,
    ...shards.map((s, i) => exportFile(name(i), safetensorsParts(s))),
    exportFile('model.safetensors.index.json', { metadata: { total_size: totalSize }, weight_map: weightMap }),
  ];
}
