// SentencePiece-style BPE: greedy highest-score pair merging with byte fallback, as llama2.c run.c
// `encode` and llama.cpp `llm_tokenizer_spm` do it. The library tokenizers merge by rank lists, which a
// GGUF/llama2.c vocab does not have, so this path is ours.
import type { Tokenizer, TokenizerSpec } from './spec';

type SpmSpec = Extract<TokenizerSpec, { kind: 'spm' }>;

/** GGUF token types that text may spell: normal (1) and user-defined (4); absent types count as normal. */
const TEXT_TYPES = new Set([1, 4]);
const CONTROL = 3;
const UNUSED = 5;
const BYTE = 6;
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

const utf8 = new TextEncoder();

/** Min-heap entry: a candidate merge of two adjacent symbols. `size` detects entries gone stale. */
interface Bigram {
  score: number;
  left: number;
  right: number;
  size: number;
}

/** Highest score first; leftmost first on ties (what run.c's strict `>` scan picks). */
const before = (a: Bigram, b: Bigram) => a.score > b.score || (a.score === b.score && a.left < b.left);

class BigramQueue {
  private heap: Bigram[] = [];
  get length() {
    return this.heap.length;
  }
  push(b: Bigram) {
    const h = this.heap;
    let i = h.push(b) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Bigram {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

export class SpmTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly unkId: number | null;
  readonly dummyPrefix: boolean;
  private readonly spec: SpmSpec;
  /** Pieces that text may spell (normal and user-defined), keyed by their string. */
  private readonly textIds = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** What each id contributes to decoded text, as UTF-8 bytes; empty for control tokens. */
  private readonly bytesOf: Uint8Array[];
  private readonly isByte: Uint8Array;

  constructor(spec: SpmSpec) {
    const { pieces, scores, types } = spec;
    if (scores.length !== pieces.length) throw new Error(`spm tokenizer: ${pieces.length} pieces but ${scores.length} scores`);
    if (types && types.length !== pieces.length) throw new Error(`spm tokenizer: ${pieces.length} pieces but ${types.length} token types`);
    this.spec = spec;
    this.vocabSize = pieces.length;
    this.bosId = spec.bosId;
    this.eosId = spec.eosId;
    this.unkId = spec.unkId;
    this.dummyPrefix = spec.addDummyPrefix;
    this.isByte = new Uint8Array(pieces.length);
    this.bytesOf = new Array(pieces.length);
    const special = new Set([spec.bosId, spec.eosId, spec.unkId]);
    for (let id = 0; id < pieces.length; id++) {
      const piece = pieces[id];
      const type = types?.[id] ?? 1;
      const byteMatch = BYTE_PIECE.exec(piece);
      // llama2.c vocabs carry no types: a `<0xNN>` piece there is a byte token all the same.
      if (byteMatch && (type === BYTE || !types)) {
        const b = parseInt(byteMatch[1], 16);
        if (this.byteIds[b] < 0) this.byteIds[b] = id;
        this.isByte[id] = 1;
        this.bytesOf[id] = Uint8Array.of(b);
        continue;
      }
      const hidden = special.has(id) || type === CONTROL || type === UNUSED;
      this.bytesOf[id] = hidden ? new Uint8Array(0) : utf8.encode(this.toText(piece));
      if (!hidden && TEXT_TYPES.has(type) && !this.textIds.has(piece)) this.textIds.set(piece, id);
    }
  }

  private toText(piece: string) {
    return this.spec.spaceSymbol === ' ' ? piece : piece.replaceAll(this.spec.spaceSymbol, ' ');
  }

  encode(text: string, opts: { bos?: boolean } = {}): number[] {
    const ids: number[] = [];
    if ((opts.bos ?? true) && this.bosId !== null) ids.push(this.bosId);
    if (text.length === 0) return ids;
    const sp = this.spec.spaceSymbol;
    let s = this.spec.addDummyPrefix ? ' ' + text : text;
    if (sp !== ' ') s = s.replaceAll(' ', sp);
    this.mergeInto(s, ids);
    return ids;
  }

  /** Symbols start as code points, then the best-scoring adjacent pair merges until none is in the vocab. */
  private mergeInto(s: string, out: number[]) {
    const starts: number[] = [];
    for (let i = 0; i < s.length; ) {
      starts.push(i);
      const c = s.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    }
    const n = starts.length;
    const start = Int32Array.from(starts);
    const size = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      size[i] = (i + 1 < n ? start[i + 1] : s.length) - start[i];
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const scores = this.spec.scores;
    const queue = new BigramQueue();
    const tryPair = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const id = this.textIds.get(s.slice(start[left], start[right] + size[right]));
      if (id !== undefined) queue.push({ score: scores[id], left, right, size: size[left] + size[right] });
    };
    for (let i = 0; i + 1 < n; i++) tryPair(i, i + 1);
    while (queue.length > 0) {
      const b = queue.pop();
      // A symbol already merged away has size 0; a changed size means the pair is not the one scored.
      if (size[b.left] === 0 || size[b.right] === 0 || size[b.left] + size[b.right] !== b.size) continue;
      size[b.left] += size[b.right];
      size[b.right] = 0;
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      tryPair(prev[b.left], b.left);
      tryPair(b.left, next[b.left]);
    }
    for (let i = 0; i >= 0 && n > 0; i = next[i]) {
      const sym = s.slice(start[i], start[i] + size[i]);
      const id = this.textIds.get(sym);
      if (id !== undefined) out.push(id);
      else this.byteFallback(sym, out);
    }
  }

  private byteFallback(sym: string, out: number[]) {
    const bytes = utf8.encode(sym);
    if (bytes.every((b) => this.byteIds[b] >= 0)) {
      for (const b of bytes) out.push(this.byteIds[b]);
      return;
    }
    // A vocab without byte pieces: SentencePiece emits one <unk> for the whole unknown symbol.
    if (this.unkId === null) throw new Error(`spm tokenizer: cannot encode ${JSON.stringify(sym)}: no byte tokens and no unknown token`);
    out.push(this.unkId);
  }

  decode(ids: readonly number[]): string {
    const chunks: Uint8Array[] = [];
    let total = 0;
    // run.c drops the space the dummy prefix added: on the first piece, and again after each BOS.
    let atStart = this.dummyPrefix;
    for (const id of ids) {
      if (id === this.bosId) {
        atStart = this.dummyPrefix;
        continue;
      }
      let bytes = this.bytesOf[id];
      if (bytes === undefined) throw new Error(`spm tokenizer: token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      if (bytes.length === 0) continue;
      if (atStart && bytes[0] === 0x20) bytes = bytes.subarray(1);
      atStart = false;
      chunks.push(bytes);
      total += bytes.length;
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    return new TextDecoder().decode(all);
  }

  /** The bytes a token adds to the text stream (no dummy-prefix stripping); feed them to a Utf8Stream. */
  pieceBytes(id: number): Uint8Array {
    return this.bytesOf[id] ?? new Uint8Array(0);
  }

  /** Stateless display text: a byte token shows as its character only when it is ASCII on its own. */
  piece(id: number): string {
    const bytes = this.pieceBytes(id);
    if (this.isByte[id]) return bytes[0] < 0x80 ? String.fromCharCode(bytes[0]) : '';
    return new TextDecoder().decode(bytes);
  }
}

/** Joins byte-fallback tokens into characters while streaming: holds a partial UTF-8 sequence back. */
export class Utf8Stream {
  private decoder = new TextDecoder();
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }
  /** Whatever is still held (an incomplete sequence becomes U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }
}

export function createSpmTokenizer(spec: SpmSpec): SpmTokenizer {
  return new SpmTokenizer(spec);
}
