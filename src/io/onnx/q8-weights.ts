// The q8 variant (transformers.js dtype 'q8', onnx/model_quantized.onnx): llama.cpp Q8_0 weights (blocks of 32
// int8 levels and an f16 scale) as com.microsoft MatMulNBits with bits = 8: B holds q + 128 as uint8, the zero
// point is 128, the scale is the block's. No level is re-rounded, so the file computes exactly what our
// runtimes compute from the same q8_0 model. (A DequantizeLinear + MatMul pair would say the same, but ONNX
// Runtime's CPU provider rewrites that pair into 8-bit MatMulNBits at accuracy level 4, quantizing activations;
// writing MatMulNBits ourselves keeps accuracy_level explicit.)
import { encode } from '../../model/dtype';
import { view } from '../../model/dtypes/traits';
import { f16ToF32 } from '../../model/half';
import type { Model } from '../../model/model';
import { LM_HEAD } from '../../model/names';
import { makeTensor, toFloat32, type Tensor } from '../../model/tensor';
import { isLinearWeight } from '../../passes/quant/common';
import type { MatMulNBitsWeight } from './matmul-nbits';

const Q8_BLOCK = 32;
const Q8_BYTES = 34;

/** A q8_0 weight whose rows are whole blocks: what the q8 variant writes as 8-bit MatMulNBits. */
export const fitsQ8MatMulNBits = (t: Tensor) => t.dtype === 'q8_0' && t.shape.length === 2 && t.shape[1] % Q8_BLOCK === 0;

export function q8ToMatMulNBits(t: Tensor): MatMulNBitsWeight {
  if (!fitsQ8MatMulNBits(t)) throw new Error(`tensor ${t.name} (${t.dtype} [${t.shape}]) cannot feed 8-bit MatMulNBits`);
  const [n, k] = t.shape;
  const blocks = (n * k) / Q8_BLOCK;
  const b = new Uint8Array(n * k);
  const scales = new Float32Array(blocks);
  const v = view(t.data);
  for (let i = 0; i < blocks; i++) {
    const o = i * Q8_BYTES;
    scales[i] = f16ToF32(v.getUint16(o, true));
    for (let j = 0; j < Q8_BLOCK; j++) b[i * Q8_BLOCK + j] = (v.getInt8(o + 2 + j) + 128) & 255;
  }
  return { n, k, bits: 8, blockSize: Q8_BLOCK, b, scales, zeroPoints: new Uint8Array(blocks).fill(128) };
}

/**
 * The model a q8 export uses when none is given: every block linear and an untied output projection in Q8_0
 * (llama.cpp's reference quantizer) where its rows are whole blocks; the rest, and weights already q8_0, as
 * they are. The embedding stays as it is (a Gather, as Optimum leaves it).
 */
export async function defaultQ8(model: Model): Promise<Model> {
  const tensors = new Map(model.tensors);
  for (const [name, t] of model.tensors) {
    const linear = isLinearWeight(name) || (name === LM_HEAD && !model.config.tieWordEmbeddings);
    if (!linear || t.shape.length !== 2 || t.dtype === 'q8_0' || t.shape[1] % Q8_BLOCK !== 0) continue;
    tensors.set(name, makeTensor(name, t.shape, 'q8_0', encode('q8_0', toFloat32(t))));
  }
  return { ...model, tensors };
}
