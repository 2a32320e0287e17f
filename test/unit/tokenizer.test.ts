import { gguf } from '@huggingface/gguf';
import { describe, expect, it } from 'vitest';
import { llamaTokenizerJson } from '../../src/io/hf-export';
import { parseLlama2cTokenizer } from '../../src/io/llama2c-tokenizer';
import { spmSpecFromGgufMetadata } from '../../src/model/tokenizer/gguf-vocab';
import { createTokenizer, textStream, type StreamableTokenizer } from '../../src/model/tokenizer/index';
import type { TokenizerSpec } from '../../src/model/tokenizer/spec';
import { describeWithShared, readShared, STORIES } from '../fixtures';

type SpmSpec = Extract<TokenizerSpec, { kind: 'spm' }>;
interface Reference {
  decode_rules: string;
  cases: { prompt: string; prompt_tokens: number[]; generated_tokens: number[]; text: string }[];
  tokenizer_examples: { text: string; tokens: number[]; pieces: string[] }[];
}

const ROUND_TRIP = [
  'Hello world!',
  ' leading space',
  '  two leading spaces and trailing ',
  'tabs\tand\nnew lines\n\n',
  'emoji 😀🎉 and “curly quotes” don’t — dash',
  'café ☃ 日本語 ünïcödé',
  '<0x41> is just text here',
  'a',
  ' ',
];

/** The first `n` UTF-16 units of s, never cutting a surrogate pair. */
function head(s: string, n: number) {
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

/** llama2.c run.c `encode`, line for line (quadratic): the oracle for the fast merge. */
function runCEncode(spec: SpmSpec, text: string): number[] {
  const lookup = new Map(spec.pieces.map((p, i) => [p, i]));
  const tokens = [1];
  if (text.length > 0) tokens.push(lookup.get(' ')!);
  for (const ch of text) {
    const id = lookup.get(ch);
    if (id !== undefined) tokens.push(id);
    else for (const b of new TextEncoder().encode(ch)) tokens.push(b + 3);
  }
  for (;;) {
    let best = -1e10;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i + 1 < tokens.length; i++) {
      const id = lookup.get(spec.pieces[tokens[i]] + spec.pieces[tokens[i + 1]]);
      if (id !== undefined && spec.scores[id] > best) {
        best = spec.scores[id];
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) return tokens;
    tokens.splice(bestIdx, 2, bestId);
  }
}

async function ggufMetadata(bytes: Uint8Array) {
  const { typedMetadata, metadata } = await gguf('http://mem/x.gguf', {
    typedMetadata: true,
    fetch: (async (_url: unknown, init?: RequestInit) => {
      const [a, b] = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('range') ?? '')!.slice(1).map(Number);
      return new Response(bytes.subarray(a, Math.min(b + 1, bytes.length)) as BodyInit, { status: 206 });
    }) as typeof fetch,
  });
  return { typedMetadata, metadata };
}

describeWithShared('llama2.c tok512 (spm)', [STORIES.tok, STORIES.reference, STORIES.tinystories], () => {
  const spec = parseLlama2cTokenizer(readShared(STORIES.tok), 'tok512.bin') as SpmSpec;
  const tok = createTokenizer(spec);
  const ref = JSON.parse(new TextDecoder().decode(readShared(STORIES.reference))) as Reference;
  const stories = new TextDecoder().decode(readShared(STORIES.tinystories));

  it('parses the file as run.c reads it', () => {
    expect(spec.pieces.length).toBe(512);
    expect(tok.vocabSize).toBe(512);
    expect([tok.bosId, tok.eosId, spec.unkId]).toEqual([1, 2, 0]);
    expect(spec.pieces.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(spec.pieces[259]).toBe(' t');
    expect(spec.types!.filter((t) => t === 6).length).toBe(256);
  });

  it('encodes every reference example to exactly its tokens', () => {
    for (const ex of ref.tokenizer_examples) expect(tok.encode(ex.text), ex.text).toEqual(ex.tokens);
    expect(tok.encode('Once upon a time', { bos: false })).toEqual([403, 407, 261, 378]);
    expect(tok.encode('')).toEqual([1]);
  });

  it('matches a line-for-line port of run.c encode on TinyStories text', () => {
    const text = head(stories, 3000);
    expect(tok.encode(text)).toEqual(runCEncode(spec, text));
    for (const s of ROUND_TRIP) expect(tok.encode(s), s).toEqual(runCEncode(spec, s));
  });

  it('decodes the greedy generations to their reference text', () => {
    expect(ref.decode_rules).toMatch(/strip leading space/);
    for (const c of ref.cases) expect(tok.decode([...c.prompt_tokens, ...c.generated_tokens])).toBe(c.text);
  });

  it('round-trips text, including byte-fallback characters', () => {
    for (const s of [...ROUND_TRIP, '']) expect(tok.decode(tok.encode(s)), s).toBe(s);
    const text = head(stories, 20_000);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('encodes all of valid_a.txt (~400 KB) quickly', () => {
    const t0 = performance.now();
    const ids = tok.encode(stories);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(3000);
    expect(ids.length).toBeGreaterThan(50_000);
    expect(tok.decode(ids)).toBe(stories);
  });

  it('streams text piece by piece, joining byte tokens into characters', () => {
    const s = 'Hi 😀 “ok”\nbye';
    const stream = textStream(tok);
    const out = tok.encode(s).map((id) => stream.push(id)).join('') + stream.flush();
    expect(out).toBe(s);
    expect(tok.piece(403)).toBe(' Once');
    expect(tok.piece(13)).toBe('\n'); // <0x0A>
    expect(tok.piece(1)).toBe('');
  });

  it('rejects corrupt and truncated files with the file name and the problem', () => {
    const bytes = readShared(STORIES.tok);
    expect(() => parseLlama2cTokenizer(bytes.subarray(0, 1000), 'tok512.bin')).toThrow(/tok512\.bin: .*truncated at token \d+/);
    expect(() => parseLlama2cTokenizer(bytes.subarray(0, bytes.length - 1), 'tok512.bin')).toThrow(/truncated at token 511/);
    expect(() => parseLlama2cTokenizer(bytes.subarray(0, 2), 'tok512.bin')).toThrow(/tok512\.bin: .*too short/);
    const bad = bytes.slice();
    new DataView(bad.buffer).setInt32(4 + 4, 1_000_000, true); // token 0's length
    expect(() => parseLlama2cTokenizer(bad, 'tok512.bin')).toThrow(/tok512\.bin: .*token 0 has length 1000000/);
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(4, NaN, true);
    expect(() => parseLlama2cTokenizer(nan, 'tok512.bin')).toThrow(/token 0 has score NaN/);
  });
});

describeWithShared('stories260K GGUF vocab (spm, U+2581 spaces)', [STORIES.gguf, STORIES.tok, STORIES.reference, STORIES.tinystories], () => {
  const ref = JSON.parse(new TextDecoder().decode(readShared(STORIES.reference))) as Reference;
  const tok512 = createTokenizer(parseLlama2cTokenizer(readShared(STORIES.tok), 'tok512.bin'));
  const stories = head(new TextDecoder().decode(readShared(STORIES.tinystories)), 20_000);

  it("stories260K tokenization matches the GGUF's own vocab", async () => {
    const { metadata, typedMetadata } = await ggufMetadata(readShared(STORIES.gguf));
    const spec = spmSpecFromGgufMetadata(metadata as Record<string, unknown>) as SpmSpec;
    expect(spec.spaceSymbol).toBe('\u2581');
    expect([spec.bosId, spec.eosId, spec.unkId, spec.pieces.length]).toEqual([1, 2, 0, 512]);
    // typedMetadata's {value, type} wrappers give the same spec.
    const typed = spmSpecFromGgufMetadata(typedMetadata as unknown as Record<string, unknown>) as SpmSpec;
    expect(typed.pieces).toEqual(spec.pieces);
    expect(Array.from(typed.scores)).toEqual(Array.from(spec.scores));

    const tok = createTokenizer(spec);
    for (const ex of ref.tokenizer_examples) expect(tok.encode(ex.text), ex.text).toEqual(ex.tokens);
    for (const c of ref.cases) expect(tok.decode([...c.prompt_tokens, ...c.generated_tokens])).toBe(c.text);
    expect(tok.encode(stories)).toEqual(tok512.encode(stories));
    for (const s of ROUND_TRIP) expect(tok.decode(tok.encode(s)), s).toBe(s);
    expect(tok.piece(403)).toBe(' Once');
  });

  it('rejects a non-SentencePiece vocabulary clearly', () => {
    expect(() => spmSpecFromGgufMetadata({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.tokens': ['a'] })).toThrow(/"gpt2"/);
    expect(() => spmSpecFromGgufMetadata({ 'tokenizer.ggml.model': 'llama' })).toThrow(/tokenizer\.ggml\.tokens/);
  });
});

describeWithShared('HF tokenizer.json, Llama style (BPE + byte fallback)', [STORIES.tok, STORIES.reference, STORIES.tinystories], () => {
  const spec = parseLlama2cTokenizer(readShared(STORIES.tok), 'tok512.bin') as SpmSpec;
  const spm = createTokenizer(spec);
  const ref = JSON.parse(new TextDecoder().decode(readShared(STORIES.reference))) as Reference;
  const stories = head(new TextDecoder().decode(readShared(STORIES.tinystories)), 20_000);
  const hf = createTokenizer({
    kind: 'hf',
    tokenizerJson: llamaTokenizerJson(spec),
    tokenizerConfig: { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', add_bos_token: true, clean_up_tokenization_spaces: false },
  });

  it('encodes the examples and TinyStories text exactly as the spm tokenizer does', () => {
    expect([hf.bosId, hf.eosId, hf.vocabSize, hf.dummyPrefix]).toEqual([1, 2, 512, true]);
    for (const ex of ref.tokenizer_examples) expect(hf.encode(ex.text), ex.text).toEqual(ex.tokens);
    expect(hf.encode(stories)).toEqual(spm.encode(stories));
    for (const s of ROUND_TRIP) expect(hf.encode(s), s).toEqual(spm.encode(s));
  });

  it('decodes like the spm tokenizer', () => {
    for (const c of ref.cases) expect(hf.decode([...c.prompt_tokens, ...c.generated_tokens])).toBe(c.text);
    for (const s of ROUND_TRIP) expect(hf.decode(hf.encode(s)), s).toBe(s);
    expect(hf.decode(hf.encode(stories))).toBe(stories);
    expect(hf.decode([])).toBe('');
    expect(hf.piece(403)).toBe(' Once');
  });

  it('differs from spm on purpose in one place: special-token text is a special token, as in HF', () => {
    expect(spm.encode('<s>', { bos: false })).toEqual(spm.encode('<s>', { bos: false }).filter((id) => id > 2));
    expect(spm.decode(spm.encode('x </s> y'))).toBe('x </s> y');
    expect(hf.encode('<s>', { bos: false })).toEqual([1]);
  });
});

describe('HF tokenizer.json, byte-level BPE (GPT-2 style)', () => {
  // GPT-2's bytes_to_unicode: every byte is spelled by one printable character.
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const byteChar: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) byteChar.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  const vocab: Record<string, number> = {};
  byteChar.forEach((c, b) => (vocab[c] = b)); // id = byte value keeps the expected ids readable
  const merges = [
    ['Ġ', 't'], // 256 Ġt
    ['h', 'e'], // 257 he
    ['Ġt', 'he'], // 258 Ġthe
    ['a', 't'], // 259 at
    ['Ġ', 'c'], // 260 Ġc
    ['Ġc', 'at'], // 261 Ġcat
  ];
  merges.forEach(([l, r], i) => (vocab[l + r] = 256 + i));
  const EOT = 262;
  vocab['<|endoftext|>'] = EOT;
  const json = {
    version: '1.0',
    added_tokens: [{ id: EOT, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  // GPT-2's config names a bos_token it never adds: no BOS for this tokenizer.
  const config = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', clean_up_tokenization_spaces: false };

  const tok: StreamableTokenizer = createTokenizer({ kind: 'hf', tokenizerJson: json, tokenizerConfig: config });

  it('encodes to hand-derived ids', () => {
    expect([tok.bosId, tok.eosId, tok.vocabSize, tok.dummyPrefix]).toEqual([null, EOT, 263, false]);
    // "the" -> t + he (no "the" merge without the Ġ); " cat" -> Ġ c a t -> Ġ c at -> Ġc at -> Ġcat
    expect(tok.encode('the cat')).toEqual([116, 257, 261]);
    expect(tok.encode('the the cat')).toEqual([116, 257, 258, 261]);
    // é is C3 A9: two byte pieces; '!' is 0x21
    expect(tok.encode('é!')).toEqual([0xc3, 0xa9, 0x21]);
    expect(tok.encode('cat<|endoftext|>')).toEqual([99, 259, EOT]);
  });

  it('round-trips text and drops special tokens when decoding', () => {
    for (const s of ROUND_TRIP) expect(tok.decode(tok.encode(s)), s).toBe(s);
    expect(tok.decode([116, 257, EOT, 261])).toBe('the cat');
    const stream = textStream(tok);
    const s = ' the 😀 cat';
    expect(tok.encode(s).map((id) => stream.push(id)).join('') + stream.flush()).toBe(s);
    expect(tok.piece(258)).toBe(' the');
  });
});
