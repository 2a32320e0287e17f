// C (+)= A B with A and B read through strides, so one kernel serves every product of a linear
// layer's backward without transposing anything in memory:
//   dX = dY W      A = dY [rows, out] (aRow = out, aCol = 1), B = W [out, in] (bRow = in, bCol = 1)
//   dW += dY^T X   A[o, r] = dY[r, o] (aRow = 1, aCol = out),  B = X [rows, in] (bRow = in, bCol = 1)
// C is [M, N] row-major. flags bit 0: accumulate into C (gradient sums).
// This is the io piece of training's matmuls: the bodies are the forward ones (../matmul/blocked.wgsl
// with block-f32.wgsl for CPU adapters, ../matmul/tiled.wgsl for GPUs), which read operands only
// through the accessors below. Tiled staging reads 16 consecutive k per row: coalesced where the
// operand is k-contiguous (aCol = 1 or bRow = 1), strided otherwise (dW's dY^T), which the tile reuse
// (64 outputs per staged value) pays for.
// Provides what those bodies expect: dim_m/dim_n/dim_k, a_row/a_at, b_col/b_at, store_out.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  aRow: u32,
  aCol: u32,
  bRow: u32,
  bCol: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn dim_m() -> u32 { return p.M; }
fn dim_n() -> u32 { return p.N; }
fn dim_k() -> u32 { return p.K; }

fn a_row(m: u32) -> u32 { return m * p.aRow; }
fn a_at(o: u32, k: u32) -> f32 { return a[o + k * p.aCol]; }
fn b_col(n: u32) -> u32 { return n * p.bCol; }
fn b_at(o: u32, k: u32) -> f32 { return b[o + k * p.bRow]; }

fn store_out(m: u32, n: u32, v: f32) {
  var o = v;
  if ((p.flags & 1u) != 0u) {
    o += c[m * p.N + n];
  }
  c[m * p.N + n] = o;
}
