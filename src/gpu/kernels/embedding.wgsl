// Embedding gather: out[r, :] = table[tokens[r], :]. One invocation per output element.
// Token ids are range-checked on the CPU before upload, so the index is always in bounds.

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  // Large grids are split over x and y (65535 workgroups per dimension at most).
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.dim) {
    return;
  }
  let r = i / p.dim;
  out[i] = table[tokens[r] * p.dim + i % p.dim];
}
