// The only place that knows every tokenizer kind: TokenizerSpec (plain data) -> working Tokenizer.
import { createHfTokenizer } from './hf';
import type { Tokenizer, TokenizerSpec } from './spec';
import { createSpmTokenizer, Utf8Stream } from './spm';

type Factories = { [K in TokenizerSpec['kind']]: (spec: Extract<TokenizerSpec, { kind: K }>) => StreamableTokenizer };

/** Both kinds also give a token's raw bytes, so a stream can join byte-fallback pieces into characters. */
export interface StreamableTokenizer extends Tokenizer {
  /** Encoding puts a space before the text (SentencePiece's dummy prefix), which decoding drops. */
  readonly dummyPrefix: boolean;
  pieceBytes(id: number): Uint8Array;
}

export const tokenizers = {
  spm: createSpmTokenizer,
  hf: createHfTokenizer,
} satisfies Factories;

export function createTokenizer(spec: TokenizerSpec): StreamableTokenizer {
  const make = tokenizers[spec.kind] as (s: TokenizerSpec) => StreamableTokenizer;
  if (!make) throw new Error(`unknown tokenizer kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  return make(spec);
}

/**
 * Text of generated tokens as they arrive: emoji and other characters split over byte tokens come out
 * whole once their last byte arrives. Mirrors run.c's display: the space the dummy prefix put on the
 * first piece after BOS is dropped.
 */
export function textStream(tok: StreamableTokenizer) {
  const utf8 = new Utf8Stream();
  let atStart = tok.dummyPrefix;
  return {
    push(id: number): string {
      if (id === tok.bosId) {
        atStart = tok.dummyPrefix;
        return '';
      }
      if (id === tok.eosId) return '';
      let bytes = tok.pieceBytes(id);
      if (bytes.length === 0) return '';
      if (atStart && bytes[0] === 0x20) bytes = bytes.subarray(1);
      atStart = false;
      return utf8.push(bytes);
    },
    flush: () => utf8.flush(),
  };
}

export type { Tokenizer, TokenizerSpec } from './spec';
export { Utf8Stream } from './spm';
