// GGUF `tokenizer.ggml.*` metadata (model = llama, i.e. SentencePiece) -> an spm TokenizerSpec, with
// llama.cpp's defaults for whatever the file leaves out.
import type { TokenizerSpec } from './spec';

/** Accepts @huggingface/gguf's plain values and its `typedMetadata` {value, type} wrappers alike. */
function unwrap(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'value' in v && 'type' in v) return (v as { value: unknown }).value;
  return v;
}

export function spmSpecFromGgufMetadata(meta: Record<string, unknown>): TokenizerSpec {
  const get = (k: string) => unwrap(meta[k]);
  const fail = (detail: string): never => {
    throw new Error(`GGUF tokenizer metadata: ${detail}`);
  };
  const model = get('tokenizer.ggml.model');
  if (model !== 'llama') fail(`tokenizer.ggml.model is ${JSON.stringify(model)}; only "llama" (SentencePiece) vocabularies build an spm tokenizer`);

  const pieces = get('tokenizer.ggml.tokens');
  if (!Array.isArray(pieces) || pieces.length === 0 || !pieces.every((p) => typeof p === 'string')) {
    fail('tokenizer.ggml.tokens is missing or not a list of strings');
  }
  const tokens = pieces as string[];
  const n = tokens.length;
  const numbers = (k: string): number[] | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) return fail(`${k} is not an array`);
    const arr = Array.from(v as ArrayLike<number | bigint>, Number);
    if (arr.length !== n) fail(`${k} has ${arr.length} entries for ${n} tokens`);
    return arr;
  };
  // Ids absent from the file default as in llama.cpp (unk 0, bos 1, eos 2); u32 -1 and out-of-range ids mean none.
  const id = (k: string, fallback: number): number | null => {
    const v = get(k);
    const x = v === undefined ? fallback : Number(v as number | bigint);
    return Number.isInteger(x) && x >= 0 && x < n ? x : null;
  };
  const addPrefix = get('tokenizer.ggml.add_space_prefix');
  return {
    kind: 'spm',
    pieces: tokens,
    scores: Float32Array.from(numbers('tokenizer.ggml.scores') ?? new Array<number>(n).fill(0)),
    types: numbers('tokenizer.ggml.token_type'),
    bosId: id('tokenizer.ggml.bos_token_id', 1),
    eosId: id('tokenizer.ggml.eos_token_id', 2),
    unkId: id('tokenizer.ggml.unknown_token_id', 0),
    addDummyPrefix: addPrefix === undefined ? true : Boolean(addPrefix),
    // Converted SentencePiece vocabs spell spaces as U+2581; llama2.c-derived ones may keep real spaces.
    spaceSymbol: tokens.some((p) => p.includes('\u2581')) ? '\u2581' : ' ',
  };
}
