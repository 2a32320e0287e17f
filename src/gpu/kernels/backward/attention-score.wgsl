// What the two halves of attention's backward (attention-dq.wgsl, attention-dkv.wgsl) recompute per
// (query i, key j) pair: the score and dO_i . v_j, from which P_ij and dS_ij are rebuilt.
// Expects: attention-io.wgsl and the bindings qkv and dOut.

/** (q_i . k_j, dO_i . v_j) for the query at qi, its output gradient at oi, and the key and value at kj, vj. */
fn score_dp(qi: u32, oi: u32, kj: u32, vj: u32) -> vec2f {
  var s = 0.0;
  var dp = 0.0;
  for (var d = 0u; d < p.headDim; d++) {
    s += qkv[qi + d] * qkv[kj + d];
    dp += dOut[oi + d] * qkv[vj + d];
  }
  return vec2f(s, dp);
}
