/**
 * Forward and backward of every op of the Llama forward pass, on plain row-major Float32Arrays, the CPU
 * oracle for the WebGPU backward kernels (src/gpu/kernels/backward/) and the engine of the CPU trainer.
 * Weights use the HF layout W[out, in] with y = x·Wᵀ, as in src/runtime/cpu-reference.ts, whose forward
 * functions are re-exported here under *Forward names. Gradients are checked against central finite
 * differences in test/unit/distill-gradcheck.test.ts.
 *
 * | op | forward | backward -> result |
 * |---|---|---|
 * | linear | matmulForward(x, w, rows, inDim, outDim, bias?) | matmulBackward(dy, x, w, rows, inDim, outDim, into?) -> { dx, dw, db } |
 * | RMSNorm | rmsNormForward(x, weight, eps, rows) | rmsNormBackward(dy, x, weight, rows, dim, eps, into?) -> { dx, dweight } |
 * | RoPE | ropeForward(x, rows, nHeads, headDim, startPos, theta, style) (in place) | ropeBackward(dy, rows, nHeads, headDim, startPos, theta, style) -> dx (rotation by −angle) |
 * | attention | attentionForward(q, k, v, {seq, nHeads, nKvHeads, headDim}) | attentionBackward(dout, q, k, v, shape) -> { dq, dk, dv } (causal; GQA dk/dv summed over the group) |
 * | SwiGLU | swigluForward(gate, up) | swigluBackward(dh, gate, up) -> { dgate, dup } |
 * | embedding | embeddingForward(table, tokens, dim, vocab) | embeddingBackward(dx, tokens, vocab, dim, into?) -> dEmbedding |
 * | cross-entropy | (fused) | crossEntropyBackward(logits, targets, vocab) -> { loss, dlogits } (mean over targets >= 0) |
 * | KL to teacher | (fused) | klBackward(student, teacherLogits or topKLogits(...), vocab, T) -> { loss, dlogits } (T²·KL(p‖q), mean over rows) |
 * | hidden MSE | (fused) | mseBackward(a, b) -> { loss, da } |
 *
 * Shapes: rows = tokens in the sequence; q [rows, nHeads·headDim]; k, v [rows, nKvHeads·headDim].
 * `into` arguments accumulate weight gradients into an existing buffer (gradient accumulation).
 */
export { matmulForward, matmulBackward } from './matmul';
export { rmsNormForward, rmsNormBackward } from './rmsnorm';
export { ropeForward, ropeBackward } from './rope';
export { attentionForward, attentionBackward, type AttentionShape } from './attention';
export { swigluForward, swigluBackward } from './swiglu';
export { embeddingForward, embeddingBackward } from './embedding';
export { crossEntropyBackward, klBackward, mseBackward, topKLogits, type TopKLogits } from './loss';
