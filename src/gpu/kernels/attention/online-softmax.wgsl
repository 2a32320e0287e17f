// One query's causal attention by one invocation, with no workgroup memory or barriers: an online
// softmax (running max and sum, rescaled per key) over the keys of positions first..last, folding each
// key's weight times its value into acc. Shared by the forward for CPU adapters (serial.wgsl, KV cache)
// and training's forward (../backward/attention-forward.wgsl, fused q|k|v rows).
// Expects: p.headDim, p.scale, const MAX_HEAD_DIM, and reads of the query, key and value elements at a
// flat offset: q_at(i), k_at(i), v_at(i).

const NEG_BIG = -1.0e30; // "minus infinity" that stays finite (WGSL does not promise infinities)

/**
 * The query at qo against the keys at j * kvStride + kvo (their values vOff further), j = first..last:
 * acc = sum_j exp(s_j - max) v_j with s_j = scale q.k_j; returns (max, sum_j exp(s_j - max)).
 */
fn attend(qo: u32, kvo: u32, kvStride: u32, vOff: u32, first: u32, last: u32, acc: ptr<function, array<f32, MAX_HEAD_DIM>>) -> vec2f {
  let hd = p.headDim;
  var runMax = NEG_BIG;
  var runSum = 0.0;
  for (var j = first; j <= last; j++) {
    let ko = j * kvStride + kvo;
    var s = 0.0;
    for (var d = 0u; d < hd; d++) {
      s += q_at(qo + d) * k_at(ko + d);
    }
    s *= p.scale;
    let newMax = max(runMax, s);
    let correction = exp(runMax - newMax);
    let w = exp(s - newMax);
    runSum = runSum * correction + w;
    for (var d = 0u; d < hd; d++) {
      (*acc)[d] = (*acc)[d] * correction + w * v_at(ko + vOff + d);
    }
    runMax = newMax;
  }
  return vec2f(runMax, runSum);
}
