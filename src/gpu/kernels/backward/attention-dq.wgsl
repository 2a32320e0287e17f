// Attention backward, part 1: the gradient wrt q, one invocation per (row i, head h), no barriers.
// With P_ij = exp(scale q_i.k_j - lse_i) rebuilt from the saved log-sum-exp and
// delta_i = dO_i . O_i, the softmax backward is dS_ij = P_ij (dO_i . v_j - delta_i), and
// dq_i = scale * sum_j dS_ij k_j over the causal window. delta is saved for attention-dkv.wgsl.
// Layouts as attention-forward.wgsl; dq goes to the q part of the fused dq|dk|dv rows.

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
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> dOut: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<storage, read_write> delta: array<f32>;

override WG: u32 = 64;
const MAX_HEAD_DIM = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG; // i * numHeads + h
  if (idx >= p.rows * p.numHeads) {
    return;
  }
  let h = idx % p.numHeads;
  let i = idx / p.numHeads;
  let hd = p.headDim;
  let qDim = p.numHeads * hd;
  let kvDim = p.numKvHeads * hd;
  let stride = qDim + 2u * kvDim;
  let ko = qDim + (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = i * stride + h * hd;
  let oo = idx * hd;
  var dl = 0.0;
  for (var d = 0u; d < hd; d++) {
    dl += dOut[oo + d] * out[oo + d];
  }
  delta[idx] = dl;
  let l = lse[idx];
  var dq: array<f32, MAX_HEAD_DIM>;
  for (var j = i - i % p.seqLen; j <= i; j++) {
    let kj = j * stride + ko;
    var s = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < hd; d++) {
      s += qkv[qo + d] * qkv[kj + d];
      dp += dOut[oo + d] * qkv[kj + kvDim + d];
    }
    let ds = exp(s * p.scale - l) * (dp - dl);
    for (var d = 0u; d < hd; d++) {
      dq[d] += ds * qkv[kj + d];
    }
  }
  for (var d = 0u; d < hd; d++) {
    dqkv[qo + d] = dq[d] * p.scale;
  }
}
