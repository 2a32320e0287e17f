// Before any tensor is read: every input must be the same architecture (same shapes, same q/k layout) and
// speak the same vocabulary, or the merge would silently mix unrelated rows. Layer counts may differ
// (slices pick ranges), and so may tied embeddings (a tied model's head is its embedding matrix, which the
// planner reads in its place); everything else that fixes a tensor's shape or meaning must match.
import type { ModelConfig } from '../../model/config';
import type { TokenizerSpec } from '../../model/tokenizer/spec';
import type { TensorStore } from './store';

const SAME: readonly (keyof ModelConfig)[] = [
  'architecture', 'hiddenSize', 'intermediateSize', 'numHeads', 'numKvHeads', 'headDim', 'vocabSize',
  'ropeStyle', 'attentionBias',
];

export class IncompatibleModelsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleModelsError';
  }
}

export function checkArchitectures(stores: readonly { ref: string; store: TensorStore }[]): void {
  const [first, ...rest] = stores;
  for (const other of rest) {
    for (const k of SAME) {
      const a = first.store.config[k], b = other.store.config[k];
      if (a === b) continue;
      const hint = k === 'ropeStyle' ? ' (q/k rows are stored in different orders, as GGUF and HF safetensors do; convert one first)' : '';
      throw new IncompatibleModelsError(`merge: ${other.ref} is not the same architecture as ${first.ref}: ${k} ${String(b)} vs ${String(a)}${hint}`);
    }
  }
}

/** SentencePiece's "▁" and llama2.c's " " spell the same space (GGUF, tokenizer.json and tok512.bin differ). */
const space = (piece: string) => piece.replaceAll('\u2581', ' ');

/** Token strings by id. */
function vocabulary(spec: TokenizerSpec): string[] {
  if (spec.kind === 'spm') return spec.pieces.map(space);
  const json = spec.tokenizerJson as { model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number; content: string }[] };
  const out: string[] = [];
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([piece], id) => (out[id] = space(piece))); // unigram: [piece, score] by id
  else for (const [piece, id] of Object.entries(vocab ?? {})) out[id] = space(piece);
  for (const t of json.added_tokens ?? []) out[t.id] = space(t.content);
  return out;
}

export function checkTokenizers(stores: readonly { ref: string; store: TensorStore }[]): void {
  const withTok = stores.filter((s) => s.store.tokenizer);
  if (withTok.length < 2) return; // nothing to compare; vocabSize was checked with the architecture
  const [first, ...rest] = withTok;
  const a = vocabulary(first.store.tokenizer!);
  for (const other of rest) {
    const b = vocabulary(other.store.tokenizer!);
    const n = Math.max(a.length, b.length);
    for (let id = 0; id < n; id++) {
      if (a[id] === b[id]) continue;
      throw new IncompatibleModelsError(
        `merge: ${other.ref} and ${first.ref} have different tokenizers: token ${id} is ${JSON.stringify(b[id] ?? null)} vs ${JSON.stringify(a[id] ?? null)} ` +
        `(${b.length} vs ${a.length} tokens); merged embedding rows would mix different tokens`,
      );
    }
  }
}
