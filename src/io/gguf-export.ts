// Model IR -> GGUF with llama.cpp's names and metadata keys, so llama.cpp-family runtimes load it.
import type { Model } from '../model/model';
import { GGUF_GLOBAL_NAMES, GGUF_LAYER_NAMES } from '../model/names';
import { convertRopeStyle } from '../model/rope-permute';
import type { GgufTensor, GgufValue } from './gguf-writer';
import { asGgufTensor, ggufParts, writeGguf } from './gguf-writer';

const invert = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));
const GLOBAL_OUT = invert(GGUF_GLOBAL_NAMES);
const LAYER_OUT = invert(GGUF_LAYER_NAMES);

export function ggufNameOf(canonical: string): string {
  if (GLOBAL_OUT[canonical]) return GLOBAL_OUT[canonical];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(canonical);
  const suffix = m && LAYER_OUT[m[2]];
  if (!suffix) throw new Error(`no GGUF name for tensor ${canonical}`);
  return `blk.${m[1]}.${suffix}`;
}

/** The GGUF file in one buffer (small models); `exportGgufParts` writes any size without joining tensors. */
export function exportGguf(input: Model, name?: string): Uint8Array {
  const { metadata, tensors } = ggufContent(input, name);
  return writeGguf(metadata, tensors);
}

/** The GGUF file as byte parts (header, then each tensor's bytes as stored). */
export function exportGgufParts(input: Model, name?: string): Uint8Array[] {
  const { metadata, tensors } = ggufContent(input, name);
  return ggufParts(metadata, tensors);
}

function ggufContent(input: Model, name = input.source.name.replace(/\.\w+$/, '')): { metadata: Record<string, GgufValue>; tensors: GgufTensor[] } {
  // llama.cpp's llama architecture rotates interleaved pairs; qwen2 rotates halves.
  const model = convertRopeStyle(input, input.config.architecture === 'qwen2' ? 'half' : 'interleaved');
  const c = model.config;
  const a = c.architecture;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const meta: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: a },
    'general.name': { type: 'string', value: name },
    'general.alignment': u32(32),
    [`${a}.context_length`]: u32(c.maxPositions),
    [`${a}.embedding_length`]: u32(c.hiddenSize),
    [`${a}.feed_forward_length`]: u32(c.intermediateSize),
    [`${a}.block_count`]: u32(c.numLayers),
    [`${a}.attention.head_count`]: u32(c.numHeads),
    [`${a}.attention.head_count_kv`]: u32(c.numKvHeads),
    [`${a}.attention.key_length`]: u32(c.headDim),
    [`${a}.attention.value_length`]: u32(c.headDim),
    [`${a}.rope.dimension_count`]: u32(c.headDim),
    [`${a}.rope.freq_base`]: f32(c.ropeTheta),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(c.rmsNormEps),
    [`${a}.vocab_size`]: u32(c.vocabSize),
  };
  const tok = model.tokenizer;
  if (tok?.kind === 'spm') {
    // llama.cpp's SPM tokenizer looks pieces up with U+2581 for spaces
    const pieces = tok.spaceSymbol === ' ' ? tok.pieces.map((p) => (/^<.*>$/.test(p) ? p : p.replaceAll(' ', '\u2581'))) : tok.pieces;
    Object.assign(meta, {
      'tokenizer.ggml.model': { type: 'string', value: 'llama' },
      'tokenizer.ggml.tokens': { type: 'array', of: 'string', value: pieces },
      'tokenizer.ggml.scores': { type: 'array', of: 'f32', value: tok.scores },
      'tokenizer.ggml.add_space_prefix': { type: 'bool', value: tok.addDummyPrefix },
      ...(tok.types ? { 'tokenizer.ggml.token_type': { type: 'array', of: 'i32', value: tok.types } } : {}),
      ...(tok.bosId != null ? { 'tokenizer.ggml.bos_token_id': u32(tok.bosId) } : {}),
      ...(tok.eosId != null ? { 'tokenizer.ggml.eos_token_id': u32(tok.eosId) } : {}),
      ...(tok.unkId != null ? { 'tokenizer.ggml.unknown_token_id': u32(tok.unkId) } : {}),
    } satisfies Record<string, GgufValue>);
  }
  const tensors: GgufTensor[] = [...model.tensors.values()].map((t) => asGgufTensor(ggufNameOf(t.name), t));
  return { metadata: meta, tensors };
}
