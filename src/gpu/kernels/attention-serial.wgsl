// Causal grouped-query attention for CPU adapters (SwiftShader): one invocation per (row, head),
// no workgroup memory and no barriers, which a CPU rasterizer pays for per invocation. Same math,
// params and bindings as attention.wgsl: an online softmax over positions [0, startPos + r].

struct Params {
  rows: u32,
  startPos: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  scale: f32, // 1 / sqrt(headDim)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kCache: array<f32>;
@group(0) @binding(3) var<storage, read> vCache: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

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
  let kvDim = p.numKvHeads * hd;
  let kvo = (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = idx * hd;
  var acc: array<f32, MAX_HEAD_DIM>;
  var runMax = NEG_BIG;
  var runSum = 0.0;
  for (var j = 0u; j <= p.startPos + r; j++) {
    let ko = j * kvDim + kvo;
    var s = 0.0;
    for (var d = 0u; d < hd; d++) {
      s += q[qo + d] * kCache[ko + d];
    }
    s *= p.scale;
    let newMax = max(runMax, s);
    let correction = exp(runMax - newMax);
    let w = exp(s - newMax);
    runSum = runSum * correction + w;
    for (var d = 0u; d < hd; d++) {
      acc[d] = acc[d] * correction + w * vCache[ko + d];
    }
    runMax = newMax;
  }
  for (var d = 0u; d < hd; d++) {
    out[qo + d] = acc[d] / runSum;
  }
}
