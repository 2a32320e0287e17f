// Causal grouped-query attention over one sequence starting at position 0 (training never has a prefix cache).
import { attention } from '../../../runtime/cpu-reference';

export interface AttentionShape {
  seq: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
}

/** q [seq, nHeads·headDim], k/v [seq, nKvHeads·headDim] (RoPE already applied) -> out [seq, nHeads·headDim]. */
export function attentionForward(q: Float32Array, k: Float32Array, v: Float32Array, s: AttentionShape): Float32Array {
  return attention(q, k, v, s.seq, 0, s.nHeads, s.nKvHeads, s.headDim);
}

/**
 * Backward of attentionForward. The softmax is recomputed from q and k rather than saved, so the only
 * activations kept per layer are q, k, v. Per head, with P = softmax(q·kᵀ·scale) (causal):
 * dP = dout·vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dq = scale·dS·k, dk = scale·dSᵀ·q, dv = Pᵀ·dout.
 * Query heads sharing a kv head (GQA) sum their dk and dv.
 * -> dq [seq, nHeads·headDim], dk, dv [seq, nKvHeads·headDim].
 */
export function attentionBackward(
  dout: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, s: AttentionShape,
): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  const { seq, nHeads, nKvHeads, headDim } = s;
  if (nHeads % nKvHeads !== 0) throw new Error(`attention: ${nHeads} heads is not a multiple of ${nKvHeads} kv heads`);
  const qDim = nHeads * headDim, kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(headDim);
  const dq = new Float32Array(seq * qDim);
  const dk = new Float32Array(seq * kvDim);
  const dv = new Float32Array(seq * kvDim);
  const p = new Float64Array(seq);
  const dp = new Float64Array(seq);
  for (let r = 0; r < seq; r++) {
    const len = r + 1;
    for (let h = 0; h < nHeads; h++) {
      const qo = r * qDim + h * headDim;
      const kvo = Math.floor(h / group) * headDim;
      let max = -Infinity;
      for (let t = 0; t < len; t++) {
        let sc = 0;
        for (let d = 0; d < headDim; d++) sc += q[qo + d] * k[t * kvDim + kvo + d];
        p[t] = sc * scale;
        if (p[t] > max) max = p[t];
      }
      let sum = 0;
      for (let t = 0; t < len; t++) sum += (p[t] = Math.exp(p[t] - max));
      let pdp = 0;
      for (let t = 0; t < len; t++) {
        p[t] /= sum;
        let g = 0;
        for (let d = 0; d < headDim; d++) g += dout[qo + d] * v[t * kvDim + kvo + d];
        dp[t] = g;
        pdp += p[t] * g;
      }
      for (let t = 0; t < len; t++) {
        const ds = p[t] * (dp[t] - pdp) * scale;
        const ko = t * kvDim + kvo;
        for (let d = 0; d < headDim; d++) {
          dq[qo + d] += ds * k[ko + d];
          dk[ko + d] += ds * q[qo + d];
          dv[ko + d] += p[t] * dout[qo + d];
        }
      }
    }
  }
  return { dq, dk, dv };
}
