// Causal grouped-query attention for training: as attention-serial.wgsl (one invocation per
// (row, head), online softmax, no barriers), but reading q, k and v from the fused q|k|v rows of a
// batch of sequences (row r at position r % seqLen, attending to rows of its own sequence only),
// and saving each softmax's log-sum-exp, from which the backward rebuilds the probabilities.

struct Params {
  rows: u32,
  seqLen: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  scale: f32, // 1 / sqrt(headDim)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;

override WG: u32 = 64;
const MAX_HEAD_DIM = 256u;
const NEG_BIG = -1.0e30;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG; // r * numHeads + h
  if (idx >= p.rows * p.numHeads) {
    return;
  }
  let h = idx % p.numHeads;
  let r = idx / p.numHeads;
  let hd = p.headDim;
  let qDim = p.numHeads * hd;
  let kvDim = p.numKvHeads * hd;
  let stride = qDim + 2u * kvDim;
  let ko = qDim + (h / (p.numHeads / p.numKvHeads)) * hd; // this head's k within a row; v is kvDim further
  let qo = r * stride + h * hd;
  let first = r - r % p.seqLen;
  var acc: array<f32, MAX_HEAD_DIM>;
  var runMax = NEG_BIG;
  var runSum = 0.0;
  for (var j = first; j <= r; j++) {
    let kj = j * stride + ko;
    var s = 0.0;
    for (var d = 0u; d < hd; d++) {
      s += qkv[qo + d] * qkv[kj + d];
    }
    s *= p.scale;
    let newMax = max(runMax, s);
    let correction = exp(runMax - newMax);
    let w = exp(s - newMax);
    runSum = runSum * correction + w;
    for (var d = 0u; d < hd; d++) {
      acc[d] = acc[d] * correction + w * qkv[kj + kvDim + d];
    }
    runMax = newMax;
  }
  for (var d = 0u; d < hd; d++) {
    out[idx * hd + d] = acc[d] / runSum;
  }
  lse[idx] = runMax + log(runSum);
}
