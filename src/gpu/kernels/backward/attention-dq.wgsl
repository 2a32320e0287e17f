// Attention backward, part 1: the gradient wrt q, one invocation per (row i, head h), no barriers.
// With P_ij = exp(scale q_i.k_j - lse_i) rebuilt from the saved log-sum-exp and
// delta_i = dO_i . O_i, the softmax backward is dS_ij = P_ij (dO_i . v_j - delta_i), and
// dq_i = scale * sum_j dS_ij k_j over the causal window. delta is saved for attention-dkv.wgsl.
// dq goes to the q part of the fused dq|dk|dv rows.
// Expects: attention-io.wgsl, attention-score.wgsl, ../items.wgsl.

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> dOut: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<storage, read_write> delta: array<f32>;

fn item_count() -> u32 { return p.rows * p.numHeads; }

fn item(idx: u32) { // idx = i * numHeads + h
  let h = idx % p.numHeads;
  let i = idx / p.numHeads;
  let hd = p.headDim;
  let f = fused();
  let ko = f.qDim + (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = i * f.stride + h * hd;
  let oo = idx * hd;
  var dl = 0.0;
  for (var d = 0u; d < hd; d++) {
    dl += dOut[oo + d] * out[oo + d];
  }
  delta[idx] = dl;
  let l = lse[idx];
  var dq: array<f32, MAX_HEAD_DIM>;
  for (var j = i - i % p.seqLen; j <= i; j++) {
    let kj = j * f.stride + ko;
    let sd = score_dp(qo, oo, kj, kj + f.kvDim);
    let ds = exp(sd.x * p.scale - l) * (sd.y - dl);
    for (var d = 0u; d < hd; d++) {
      dq[d] += ds * qkv[kj + d];
    }
  }
  for (var d = 0u; d < hd; d++) {
    dqkv[qo + d] = dq[d] * p.scale;
  }
}
