// The Llama-family architectures we run, as data: what differs between them is a handful of
// defaults, never a code path of its own.
import type { ModelConfig, RopeStyle } from './config';

export interface ArchitectureTraits {
  /** Names seen in HF config.json `model_type` / `architectures[0]` and GGUF `general.architecture`. */
  readonly aliases: readonly string[];
  readonly attentionBias: boolean;
  /** RoPE pairing of weights as the GGUF converter leaves them (HF safetensors are always 'half'). */
  readonly ggufRopeStyle: RopeStyle;
  readonly defaultRopeTheta: number;
}

export const ARCHITECTURES = {
  llama: { aliases: ['llama', 'LlamaForCausalLM', 'smollm'], attentionBias: false, ggufRopeStyle: 'interleaved', defaultRopeTheta: 10000 },
  mistral: { aliases: ['mistral', 'MistralForCausalLM'], attentionBias: false, ggufRopeStyle: 'interleaved', defaultRopeTheta: 10000 },
  qwen2: { aliases: ['qwen2', 'Qwen2ForCausalLM'], attentionBias: true, ggufRopeStyle: 'half', defaultRopeTheta: 1000000 },
} as const satisfies Record<string, ArchitectureTraits>;

export type ArchitectureId = keyof typeof ARCHITECTURES;

export class UnsupportedArchitectureError extends Error {
  constructor(public readonly found: string, source: string) {
    super(`unsupported architecture "${found}" in ${source}; supported: ${Object.keys(ARCHITECTURES).join(', ')} (Llama family)`);
    this.name = 'UnsupportedArchitectureError';
  }
}

export function resolveArchitecture(name: string | undefined, source: string): ArchitectureId {
  const wanted = (name ?? '').toLowerCase();
  for (const [id, traits] of Object.entries(ARCHITECTURES)) {
    if (traits.aliases.some((a) => a.toLowerCase() === wanted)) return id as ArchitectureId;
  }
  throw new UnsupportedArchitectureError(name ?? '(missing)', source);
}

export const parameterCount = (c: ModelConfig) => {
  const kv = c.numKvHeads * c.headDim;
  const q = c.numHeads * c.headDim;
  const attn = c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + (c.attentionBias ? q + 2 * kv : 0);
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
  const perLayer = attn + mlp + 2 * c.hiddenSize;
  const embed = c.vocabSize * c.hiddenSize;
  return c.numLayers * perLayer + embed * (c.tieWordEmbeddings ? 1 : 2) + c.hiddenSize;
};
