import type { ModelConfig } from './config';
import type { TokenizerSpec } from './tokenizer/spec';
import type { Tensor } from './tensor';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from './names';
import { numel } from './tensor';

/** The model IR every importer produces and every runtime, pass and exporter consumes. */
export interface Model {
  readonly config: ModelConfig;
  /** Canonical (HF) names -> tensors. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  readonly tokenizer?: TokenizerSpec;
  /** Where it came from, for display: format and file name. */
  readonly source: { format: string; name: string };
}

/** Shapes a complete model must have; importers call this so a runtime never meets a missing tensor. */
export function expectedShapes(c: ModelConfig): Map<string, number[]> {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const shapes = new Map<string, number[]>([
    [EMBED, [c.vocabSize, c.hiddenSize]],
    [FINAL_NORM, [c.hiddenSize]],
  ]);
  if (!c.tieWordEmbeddings) shapes.set(LM_HEAD, [c.vocabSize, c.hiddenSize]);
  const per: [LayerTensor, number[]][] = [
    ['input_layernorm.weight', [c.hiddenSize]],
    ['post_attention_layernorm.weight', [c.hiddenSize]],
    ['self_attn.q_proj.weight', [q, c.hiddenSize]],
    ['self_attn.k_proj.weight', [kv, c.hiddenSize]],
    ['self_attn.v_proj.weight', [kv, c.hiddenSize]],
    ['self_attn.o_proj.weight', [c.hiddenSize, q]],
    ['mlp.gate_proj.weight', [c.intermediateSize, c.hiddenSize]],
    ['mlp.up_proj.weight', [c.intermediateSize, c.hiddenSize]],
    ['mlp.down_proj.weight', [c.hiddenSize, c.intermediateSize]],
  ];
  if (c.attentionBias) {
    per.push(['self_attn.q_proj.bias', [q]], ['self_attn.k_proj.bias', [kv]], ['self_attn.v_proj.bias', [kv]]);
  }
  for (let l = 0; l < c.numLayers; l++) for (const [t, s] of per) shapes.set(layerName(l, t), s);
  return shapes;
}

export function checkComplete(config: ModelConfig, tensors: ReadonlyMap<string, Tensor>, source: string): void {
  for (const [name, shape] of expectedShapes(config)) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${source}: missing tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${source}: tensor ${name} has shape [${t.shape}], config implies [${shape}]`);
    }
  }
}

export const modelBytes = (m: Model) => [...m.tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
export const modelParams = (m: Model) => [...m.tensors.values()].reduce((s, t) => s + numel(t.shape), 0);
