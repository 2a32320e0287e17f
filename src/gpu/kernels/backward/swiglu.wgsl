// SwiGLU backward over the fused gate|up rows: act = silu(g) * u, so
//   du = dAct * silu(g),   dg = dAct * u * sigmoid(g) * (1 + g * (1 - sigmoid(g))),
// written to the matching halves of dGateUp. One invocation per (row, i).
// Expects: ../sigmoid.wgsl, ../items.wgsl.

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gateUp: array<f32>;
@group(0) @binding(2) var<storage, read> dAct: array<f32>;
@group(0) @binding(3) var<storage, read_write> dGateUp: array<f32>;

fn item_count() -> u32 { return p.rows * p.dim; }

fn item(idx: u32) {
  let src = (idx / p.dim) * 2u * p.dim + idx % p.dim;
  let g = gateUp[src];
  let u = gateUp[src + p.dim];
  let sig = sigmoid(g);
  let da = dAct[idx];
  dGateUp[src] = da * u * sig * (1.0 + g * (1.0 - sig));
  dGateUp[src + p.dim] = da * g * sig;
}
