// Attention backward, part 2: the gradients wrt k and v, one invocation per (row j, kv head g),
// no barriers and no atomics: each sums, in order, over the query heads sharing g (GQA) and the
// rows i >= j of its sequence that attend to it:
//   dk_j = scale * sum dS_ij q_i,   dv_j = sum P_ij dO_i,
// with P and dS rebuilt as in attention-dq.wgsl (which must run first: it writes delta).

struct Params {
  rows: u32,
  seqLen: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> dOut: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;

override WG: u32 = 64;
const MAX_HEAD_DIM = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG; // j * numKvHeads + g
  if (idx >= p.rows * p.numKvHeads) {
    return;
  }
  let g = idx % p.numKvHeads;
  let j = idx / p.numKvHeads;
  let hd = p.headDim;
  let qDim = p.numHeads * hd;
  let kvDim = p.numKvHeads * hd;
  let stride = qDim + 2u * kvDim;
  let group = p.numHeads / p.numKvHeads;
  let kj = j * stride + qDim + g * hd;
  let vj = kj + kvDim;
  let last = j - j % p.seqLen + p.seqLen - 1u; // last row of j's sequence
  var dk: array<f32, MAX_HEAD_DIM>;
  var dv: array<f32, MAX_HEAD_DIM>;
  for (var h = g * group; h < (g + 1u) * group; h++) {
    for (var i = j; i <= last; i++) {
      let qi = i * stride + h * hd;
      let oi = (i * p.numHeads + h) * hd;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < hd; d++) {
        s += qkv[qi + d] * qkv[kj + d];
        dp += dOut[oi + d] * qkv[vj + d];
      }
      let pij = exp(s * p.scale - lse[i * p.numHeads + h]);
      let ds = pij * (dp - delta[i * p.numHeads + h]);
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
