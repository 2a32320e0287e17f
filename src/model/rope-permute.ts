// Conversion between the two RoPE pairings (see RopeStyle). Rows of q/k projections are reordered per head
// exactly as HF's convert_llama_weights_to_hf `permute` does, so an interleaved checkpoint becomes one that
// rotate_half ('half') computes identically, and back.
import { byteSize } from './dtype';
import type { Model } from './model';
import { layerName, type LayerTensor } from './names';
import { makeTensor, toFloat32, f32Tensor, type Tensor } from './tensor';

/** Reorder the rows (each `rowBytes` long) of every head from one pairing to the other. */
function permuteRows(w: Uint8Array, heads: number, headDim: number, rowBytes: number, toHalf: boolean): Uint8Array {
  const out = new Uint8Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let p = 0; p < 2; p++) {
        const inter = h * headDim + 2 * j + p;
        const halfRow = h * headDim + p * half + j;
        const [from, to] = toHalf ? [inter, halfRow] : [halfRow, inter];
        out.set(w.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}

/** Bytes of one row in the stored format, when every row is whole blocks (else rows cannot move as bytes). */
function storedRowBytes(t: Tensor): number | undefined {
  const cols = t.shape.length === 2 ? t.shape[1] : 1;
  try {
    return byteSize(t.dtype, cols);
  } catch {
    return undefined;
  }
}

/**
 * The same model with q/k rows permuted to the other RoPE pairing. Rows move as stored bytes, so quantized
 * tensors keep their dtype (blocks run along rows); a tensor whose rows are not whole blocks becomes f32.
 */
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
      const rowBytes = storedRowBytes(src);
      if (rowBytes !== undefined) {
        tensors.set(name, makeTensor(name, src.shape, src.dtype, permuteRows(src.data, heads, c.headDim, rowBytes, toHalf)));
      } else {
        const f = toFloat32(src);
        const moved = permuteRows(new Uint8Array(f.buffer), heads, c.headDim, 4 * (src.shape.length === 2 ? src.shape[1] : 1), toHalf);
        tensors.set(name, f32Tensor(name, src.shape, new Float32Array(moved.buffer)));
      }
    }
  }
  return { ...model, config: { ...c, ropeStyle: target }, tensors };
}
