// SwiGLU backward over the fused gate|up rows: act = silu(g) * u, so
//   du = dAct * silu(g),   dg = dAct * u * sigmoid(g) * (1 + g * (1 - sigmoid(g))),
// written to the matching halves of dGateUp. One invocation per (row, i); the sigmoid as in swiglu.wgsl.

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gateUp: array<f32>;
@group(0) @binding(2) var<storage, read> dAct: array<f32>;
@group(0) @binding(3) var<storage, read_write> dGateUp: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.rows * p.dim) {
    return;
  }
  let src = (idx / p.dim) * 2u * p.dim + idx % p.dim;
  let g = gateUp[src];
  let u = gateUp[src + p.dim];
  let e = exp(-abs(g));
  let sig = select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
  let da = dAct[idx];
  dGateUp[src] = da * u * sig * (1.0 + g * (1.0 - sig));
  dGateUp[src + p.dim] = da * g * sig;
}
