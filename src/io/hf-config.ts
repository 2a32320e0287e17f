// HF config.json <-> ModelConfig. Field names are transformers' LlamaConfig / MistralConfig / Qwen2Config.
import { z } from 'zod';
import { ARCHITECTURES, resolveArchitecture } from '../model/architectures';
import { validateConfig, type ModelConfig } from '../model/config';
import { FormatError } from './errors';

const tokenId = z.union([z.number().int(), z.array(z.number().int()).min(1)]).nullish();

const HfConfig = z.object({
  model_type: z.string().optional(),
  architectures: z.array(z.string()).optional(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive().default(2048),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().optional(),
  rope_scaling: z.object({ type: z.string().optional(), rope_type: z.string().optional() }).passthrough().nullish(),
  attention_bias: z.boolean().optional(),
  tie_word_embeddings: z.boolean().default(false),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
});

const first = (v: number | number[] | null | undefined) => (v == null ? null : Array.isArray(v) ? v[0] : v);

export function configFromHf(json: unknown, file = 'config.json'): ModelConfig {
  const parsed = HfConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FormatError('HF config.json', file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const h = parsed.data;
  const arch = resolveArchitecture(h.model_type ?? h.architectures?.[0], file);
  const traits = ARCHITECTURES[arch];
  const scaling = h.rope_scaling?.rope_type ?? h.rope_scaling?.type;
  if (scaling && scaling !== 'default') {
    throw new FormatError('HF config.json', file, `rope_scaling "${scaling}" is not supported yet (only plain RoPE)`);
  }
  return validateConfig({
    architecture: arch,
    hiddenSize: h.hidden_size,
    intermediateSize: h.intermediate_size,
    numLayers: h.num_hidden_layers,
    numHeads: h.num_attention_heads,
    numKvHeads: h.num_key_value_heads ?? h.num_attention_heads,
    headDim: h.head_dim ?? h.hidden_size / h.num_attention_heads,
    vocabSize: h.vocab_size,
    maxPositions: h.max_position_embeddings,
    rmsNormEps: h.rms_norm_eps,
    ropeTheta: h.rope_theta ?? traits.defaultRopeTheta,
    // transformers permutes q/k at conversion time so that rotate_half applies
    ropeStyle: 'half',
    attentionBias: h.attention_bias ?? traits.attentionBias,
    tieWordEmbeddings: h.tie_word_embeddings,
    bosTokenId: first(h.bos_token_id),
    eosTokenId: first(h.eos_token_id),
  });
}

export function hfConfigFrom(c: ModelConfig): Record<string, unknown> {
  const classes: Record<string, string> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' };
  return {
    architectures: [classes[c.architecture] ?? 'LlamaForCausalLM'],
    model_type: c.architecture,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    attention_bias: c.attentionBias,
    tie_word_embeddings: c.tieWordEmbeddings,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    hidden_act: 'silu',
    torch_dtype: 'float32',
  };
}
