// RMSNorm, one workgroup per row: out[r] = x[srcRow + r] * weight / sqrt(mean(x^2) + eps).
// srcRow lets the final norm read only the last row of a batch (all generation needs).
// Expects: reduce.wgsl (the sum of squares over the workgroup).

struct Params {
  rows: u32,
  dim: u32,
  srcRow: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256; // a power of two, for the tree reduction

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let src = (p.srcRow + wid.x) * p.dim;
  let dst = wid.x * p.dim;
  var ss = 0.0;
  for (var i = t; i < p.dim; i += WG) {
    let v = x[src + i];
    ss += v * v;
  }
  reduce_sum(ss, t, t, WG);
  let scale = 1.0 / sqrt(partial[0] / f32(p.dim) + p.eps);
  for (var i = t; i < p.dim; i += WG) {
    out[dst + i] = x[src + i] * scale * weight[i];
  }
}
