// Keeps a pruned model sparse while it trains: zeroes the gradient wherever the weight was pruned
// (bit i of mask clear), before clipping and AdamW. With a zero gradient from the first step, AdamW's
// moments stay zero and a zero weight stays exactly zero (weight decay of 0 is 0), so no re-masking
// of the weights is needed. One invocation per gradient value.

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mask: array<u32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.count) {
    return;
  }
  if ((mask[i / 32u] & (1u << (i % 32u))) == 0u) {
    grad[i] = 0.0;
  }
}
