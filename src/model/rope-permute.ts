// Conversion between the two RoPE pairings (see RopeStyle). Rows of q/k projections are reordered per head
// exactly as HF's convert_llama_weights_to_hf `permute` does, so an interleaved checkpoint becomes one that
// rotate_half ('half') computes identically, and back.
import type { Model } from './model';
import { layerName, type LayerTensor } from './names';
import { f32Tensor, toFloat32, type Tensor } from './tensor';

/** Row index in the 'half' layout of row (2j + p) of each head in the 'interleaved' layout. */
function permuteRows(w: Float32Array, heads: number, headDim: number, cols: number, toHalf: boolean): Float32Array {
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let p = 0; p < 2; p++) {
        const inter = h * headDim + 2 * j + p;
        const halfRow = h * headDim + p * half + j;
        const [from, to] = toHalf ? [inter, halfRow] : [halfRow, inter];
        out.set(w.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/** The same model with q/k rows permuted to the other RoPE pairing (f32 output for permuted tensors). */
export function convertRopeStyle(model: Model, target: 'half' | 'interleaved'): Model {
  const c = model.config;
  if (c.ropeStyle === target) return model;
  const tensors = new Map(model.tensors);
  const toHalf = target === 'half';
  for (let l = 0; l < c.numLayers; l++) {
    const jobs: [LayerTensor, number][] = [
      ['self_attn.q_proj.weight', c.numHeads], ['self_attn.k_proj.weight', c.numKvHeads],
      ['self_attn.q_proj.bias', c.numHeads], ['self_attn.k_proj.bias', c.numKvHeads],
    ];
    for (const [t, heads] of jobs) {
      const name = layerName(l, t);
      const src: Tensor | undefined = tensors.get(name);
      if (!src) continue;
      const cols = src.shape.length === 2 ? src.shape[1] : 1;
      tensors.set(name, f32Tensor(name, src.shape, permuteRows(toFloat32(src), heads, c.headDim, cols, toHalf)));
    }
  }
  return { ...model, config: { ...c, ropeStyle: target }, tensors };
}
