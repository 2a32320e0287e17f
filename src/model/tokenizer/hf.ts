// HF tokenizer.json (BPE with byte fallback, byte-level BPE, their normalizers and decoders) through
// @huggingface/tokenizers, which builds the whole pipeline from the JSON with no network access. It is
// the tokenizer core that transformers.js's PreTrainedTokenizer thinly wraps, without transformers.js's
// onnxruntime-web dependency; the wrapper's few extras (config special tokens) are redone below.
import { Tokenizer as HfPipeline } from '@huggingface/tokenizers';
import type { Tokenizer, TokenizerSpec } from './spec';

type HfSpec = Extract<TokenizerSpec, { kind: 'hf' }>;
type Json = Record<string, unknown>;

/** Without tokenizer_config.json, the usual end-of-text spellings of the Llama family stand in. */
const EOS_GUESSES = ['</s>', '<|endoftext|>', '<|end_of_text|>', '<|im_end|>', '<eos>'];
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8 = new TextEncoder();

/** GPT-2's bytes_to_unicode, inverted: byte-level BPE pieces spell each byte as one printable char. */
const BYTE_LEVEL_DECODE: ReadonlyMap<string, number> = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const m = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) m.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  return m;
})();

function usesByteLevel(decoder: unknown): boolean {
  if (!decoder || typeof decoder !== 'object') return false;
  const d = decoder as { type?: string; decoders?: unknown[] };
  return d.type === 'ByteLevel' || (d.type === 'Sequence' && (d.decoders ?? []).some(usesByteLevel));
}

/** The special-token keys of tokenizer_config.json that transformers.js's PreTrainedTokenizer reads. */
const CONFIG_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/**
 * A token named in tokenizer_config.json, read as transformers.js's PreTrainedTokenizer reads it: a
 * string, or an object marked `"__type": "AddedToken"`; any other object is an error.
 */
function configToken(config: Json, key: string): string | null {
  if (!Object.hasOwn(config, key)) return null;
  const item = config[key];
  if (!item) return null;
  if (typeof item !== 'object') return item as string;
  if ((item as Json).__type === 'AddedToken') return (item as Json).content as string;
  throw new Error(`Unknown token: ${item}`);
}

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly dummyPrefix: boolean;
  private readonly tok: HfPipeline;
  private readonly idToToken: string[] = [];
  private readonly special: Set<number>;
  private readonly byteLevel: boolean;
  private readonly cleanUpSpaces: boolean;

  constructor(spec: HfSpec) {
    const json = spec.tokenizerJson as Json | null;
    if (!json || typeof json !== 'object' || !json.model || typeof json.model !== 'object') {
      throw new Error('tokenizer.json: not a tokenizer definition (no "model" object)');
    }
    const config = (spec.tokenizerConfig ?? {}) as Json;
    // the library builds its pipeline lazily in places: a damaged tokenizer.json (a post_processor of the
    // wrong shape) fails on the first encode, so the probes below stay inside the same try
    try {
      this.tok = new HfPipeline(json, config);
      for (const key of CONFIG_TOKEN_KEYS) configToken(config, key);
      for (const [token, id] of this.tok.get_vocab()) this.idToToken[id] = token;
      this.vocabSize = this.idToToken.length;
      this.special = new Set([...this.tok.get_added_tokens_decoder().values()].filter((t) => t.special).map((t) => t.id));
      this.byteLevel = usesByteLevel(json.decoder);
      // transformers.js cleans up spaces unless told otherwise, which breaks decode(encode(x)) == x;
      // recent HF configs say false, and a config that asks for it still gets it.
      this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
      this.bosId = this.detectBos(config);
      this.eosId = this.configTokenId(config, 'eos_token') ?? this.firstKnown(EOS_GUESSES);
      // Llama-style normalizers (Prepend, Metaspace) put a space before "a"; the decoder strips it again.
      const first = this.tok.encode('a', { add_special_tokens: false }).ids[0];
      this.dummyPrefix = !this.byteLevel && first !== undefined && (this.idToToken[first] ?? '').startsWith('\u2581');
    } catch (e) {
      throw new Error(`tokenizer.json: cannot build the tokenizer: ${(e as Error).message}`);
    }
  }

  /**
   * BOS is what the tokenizer's own post-processor puts first (Llama, Mistral), or what the config says
   * to add; GPT-2-style configs name a bos_token they never add, and that one does not count.
   */
  private detectBos(config: Json): number | null {
    const plain = this.tok.encode('a', { add_special_tokens: false }).ids;
    const full = this.tok.encode('a', { add_special_tokens: true }).ids;
    if (full.length > plain.length && full[0] !== plain[0] && this.special.has(full[0])) return full[0];
    const bos = this.configTokenId(config, 'bos_token');
    if (config.add_bos_token === true && bos !== null) return bos;
    return null;
  }

  /** The id of a token tokenizer_config.json names (bos_token, eos_token), when the vocabulary has it. */
  private configTokenId(config: Json, key: string): number | null {
    const token = configToken(config, key);
    return token === null ? null : (this.tok.token_to_id(token) ?? null);
  }

  private firstKnown(tokens: string[]): number | null {
    for (const t of tokens) {
      const id = this.tok.token_to_id(t);
      if (id !== undefined && this.idToToken[id] === t) return id;
    }
    return null;
  }

  encode(text: string, opts: { bos?: boolean } = {}): number[] {
    const ids = text.length === 0 ? [] : this.tok.encode(text, { add_special_tokens: false }).ids;
    if ((opts.bos ?? true) && this.bosId !== null) ids.unshift(this.bosId);
    return ids;
  }

  decode(ids: readonly number[]): string {
    for (const id of ids) {
      if (!(id >= 0 && id < this.vocabSize)) throw new Error(`hf tokenizer: token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
    const kept = ids.filter((id) => !this.special.has(id) && id !== this.bosId && id !== this.eosId);
    if (kept.length === 0) return '';
    return this.tok.decode(kept, { skip_special_tokens: true, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }

  /** The bytes a token adds to the text stream (no leading-space stripping); feed them to a Utf8Stream. */
  pieceBytes(id: number): Uint8Array {
    const token = this.idToToken[id];
    if (token === undefined || this.special.has(id)) return new Uint8Array(0);
    if (this.byteLevel) return Uint8Array.from(Array.from(token, (c) => BYTE_LEVEL_DECODE.get(c) ?? 0x3f));
    const byte = BYTE_PIECE.exec(token);
    if (byte) return Uint8Array.of(parseInt(byte[1], 16));
    return utf8.encode(token.replaceAll('\u2581', ' '));
  }

  piece(id: number): string {
    const bytes = this.pieceBytes(id);
    // A lone byte of a multi-byte character has no text of its own; Utf8Stream joins them.
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes).replaceAll('\ufffd', '');
  }
}

export function createHfTokenizer(spec: HfSpec): HfTokenizer {
  return new HfTokenizer(spec);
}
