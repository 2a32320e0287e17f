// SwiGLU over the fused gate|up projection: out[r, i] = silu(gateUp[r, i]) * gateUp[r, dim + i],
// gateUp rows being [gate (dim) | up (dim)]. Expects: sigmoid.wgsl, items.wgsl (one invocation per output).

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gateUp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn item_count() -> u32 { return p.rows * p.dim; }

fn item(idx: u32) {
  let r = idx / p.dim;
  let src = r * 2u * p.dim + idx % p.dim;
  let g = gateUp[src];
  out[idx] = g * sigmoid(g) * gateUp[src + p.dim];
}
