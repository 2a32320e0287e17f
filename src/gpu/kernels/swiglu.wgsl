// SwiGLU over the fused gate|up projection: out[r, i] = silu(gateUp[r, i]) * gateUp[r, dim + i],
// gateUp rows being [gate (dim) | up (dim)]. The sigmoid is written so exp never overflows.

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gateUp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.rows * p.dim) {
    return;
  }
  let r = idx / p.dim;
  let src = r * 2u * p.dim + idx % p.dim;
  let g = gateUp[src];
  let e = exp(-abs(g));
  let sigmoid = select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
  out[idx] = g * sigmoid * gateUp[src + p.dim];
}
