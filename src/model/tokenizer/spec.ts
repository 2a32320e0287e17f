/**
 * What an importer knows about a model's tokenizer, as plain data (structured-cloneable, so it crosses
 * worker boundaries). `createTokenizer(spec)` in ./index.ts turns it into a working Tokenizer.
 */
export type TokenizerSpec =
  | {
      /** SentencePiece-style BPE with byte fallback: GGUF `tokenizer.ggml.model = llama`, llama2.c tok512.bin. */
      kind: 'spm';
      pieces: string[];
      scores: Float32Array | number[];
      /** GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
      types?: number[];
      bosId: number | null;
      eosId: number | null;
      unkId: number | null;
      /** Prepend a space to the text before encoding (SentencePiece's add_dummy_prefix). */
      addDummyPrefix: boolean;
      /** Pieces spell spaces as U+2581 "▁" (SentencePiece) instead of " " (llama2.c). */
      spaceSymbol: ' ' | '\u2581';
    }
  | {
      /** HF tokenizer.json (BPE or byte-level BPE), plus tokenizer_config.json when present. */
      kind: 'hf';
      tokenizerJson: unknown;
      tokenizerConfig?: unknown;
    };

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Encode text; with `bos` (default true) the BOS id comes first when the tokenizer has one. */
  encode(text: string, opts?: { bos?: boolean }): number[];
  /** Decode ids to text; special tokens (BOS/EOS) are dropped. */
  decode(ids: readonly number[]): string;
  /** The text of one token as it appears in a stream (for streaming generation display). */
  piece(id: number): string;
}
