// Attention backward, part 2: the gradients wrt k and v, one invocation per (row j, kv head g),
// no barriers and no atomics: each sums, in order, over the query heads sharing g (GQA) and the
// rows i >= j of its sequence that attend to it:
//   dk_j = scale * sum dS_ij q_i,   dv_j = sum P_ij dO_i,
// with P and dS rebuilt as in attention-dq.wgsl (which must run first: it writes delta).
// Expects: attention-io.wgsl, attention-score.wgsl, ../items.wgsl.

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> dOut: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;

fn item_count() -> u32 { return p.rows * p.numKvHeads; }

fn item(idx: u32) { // idx = j * numKvHeads + g
  let g = idx % p.numKvHeads;
  let j = idx / p.numKvHeads;
  let hd = p.headDim;
  let f = fused();
  let group = p.numHeads / p.numKvHeads;
  let kj = j * f.stride + f.qDim + g * hd;
  let vj = kj + f.kvDim;
  let last = j - j % p.seqLen + p.seqLen - 1u; // last row of j's sequence
  var dk: array<f32, MAX_HEAD_DIM>;
  var dv: array<f32, MAX_HEAD_DIM>;
  for (var h = g * group; h < (g + 1u) * group; h++) {
    for (var i = j; i <= last; i++) {
      let qi = i * f.stride + h * hd;
      let oi = (i * p.numHeads + h) * hd;
      let sd = score_dp(qi, oi, kj, vj);
      let pij = exp(sd.x * p.scale - lse[i * p.numHeads + h]);
      let ds = pij * (sd.y - delta[i * p.numHeads + h]);
      for (var d = 0u; d < hd; d++) {
        dk[d] += ds * qkv[qi + d];
        dv[d] += pij * dOut[oi + d];
      }
    }
  }
  for (var d = 0u; d < hd; d++) {
    dqkv[kj + d] = dk[d] * p.scale;
    dqkv[vj + d] = dv[d];
  }
}
