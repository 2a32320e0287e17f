import { z } from 'zod';

/**
 * How q/k vectors are paired for rotation. 'interleaved' rotates (x0,x1),(x2,x3)... as Meta's and
 * llama2.c's checkpoints and GGUF llama (ggml rope "normal") store them; 'half' rotates (x_i, x_{i+d/2})
 * as HF transformers' rotate_half and GGUF qwen2 (ggml "neox") do. Importers set it; weights are never permuted.
 */
export const RopeStyle = z.enum(['interleaved', 'half']);
export type RopeStyle = z.infer<typeof RopeStyle>;

export const ModelConfig = z.object({
  /** Family name as HF spells it in model_type: llama, mistral, qwen2 ... (see architectures.ts). */
  architecture: z.string(),
  hiddenSize: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  maxPositions: z.number().int().positive(),
  rmsNormEps: z.number().positive(),
  ropeTheta: z.number().positive(),
  ropeStyle: RopeStyle,
  /** Qwen2 puts a bias on q, k and v. */
  attentionBias: z.boolean(),
  /** lm_head shares the embedding matrix (no separate lm_head.weight tensor). */
  tieWordEmbeddings: z.boolean(),
  bosTokenId: z.number().int().nullable(),
  eosTokenId: z.number().int().nullable(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

export function validateConfig(c: ModelConfig): ModelConfig {
  const parsed = ModelConfig.parse(c);
  if (parsed.numHeads % parsed.numKvHeads !== 0) {
    throw new Error(`config: ${parsed.numHeads} attention heads is not a multiple of ${parsed.numKvHeads} kv heads`);
  }
  if (parsed.headDim % 2 !== 0) throw new Error(`config: head_dim ${parsed.headDim} must be even for RoPE`);
  return parsed;
}
