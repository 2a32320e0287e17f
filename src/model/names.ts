// The canonical tensor names (HF transformers' Llama layout). Importers map into these, exporters out of them.

export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

export type LayerTensor =
  | 'input_layernorm.weight' | 'post_attention_layernorm.weight'
  | 'self_attn.q_proj.weight' | 'self_attn.k_proj.weight' | 'self_attn.v_proj.weight' | 'self_attn.o_proj.weight'
  | 'self_attn.q_proj.bias' | 'self_attn.k_proj.bias' | 'self_attn.v_proj.bias'
  | 'mlp.gate_proj.weight' | 'mlp.up_proj.weight' | 'mlp.down_proj.weight';

export const layerName = (layer: number, t: LayerTensor) => `model.layers.${layer}.${t}`;

/** GGUF (llama.cpp) tensor name suffixes -> canonical layer tensor. */
export const GGUF_LAYER_NAMES: Record<string, LayerTensor> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};

export const GGUF_GLOBAL_NAMES: Record<string, string> = {
  'token_embd.weight': EMBED,
  'output_norm.weight': FINAL_NORM,
  'output.weight': LM_HEAD,
};

export function canonicalFromGguf(name: string): string | undefined {
  if (name in GGUF_GLOBAL_NAMES) return GGUF_GLOBAL_NAMES[name];
  const m = /^blk\.(\d+)\.(.+)$/.exec(name);
  if (!m) return undefined;
  const t = GGUF_LAYER_NAMES[m[2]];
  return t ? layerName(Number(m[1]), t) : undefined;
}
