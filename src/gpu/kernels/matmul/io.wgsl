// The interface every forward linear kernel shares (matmul, matvec, their quantized and sparse forms):
// y = x W^T (+ bias) (+ y), x [rows, inDim], W [outDim, inDim] (PyTorch layout), y [rows, outDim].
// Same params and bindings for all, so they share bind groups and a runtime can swap one for another.
// flags: bit 0 adds bias[n]; bit 1 accumulates into out (the residual add, fused: no extra pass).
//
// Expects from its companions the element types of the two operands, which depend on how they are read:
//   alias XT (f32, or vec4f for 16-byte loads), alias WT (f32, vec4f, or u32 for raw quantized blocks).
// Provides: p, the bindings, the product's dimensions dim_m/dim_n/dim_k, and store_out, the epilogue.

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<XT>;
@group(0) @binding(2) var<storage, read> w: array<WT>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn dim_m() -> u32 { return p.rows; }
fn dim_n() -> u32 { return p.outDim; }
fn dim_k() -> u32 { return p.inDim; }

/** Writes output (m, n) = v, plus bias and the previous output as the flags ask. */
fn store_out(m: u32, n: u32, v: f32) {
  var o = v;
  if ((p.flags & 1u) != 0u) {
    o += bias[n];
  }
  if ((p.flags & 2u) != 0u) {
    o += out[m * p.outDim + n];
  }
  out[m * p.outDim + n] = o;
}
