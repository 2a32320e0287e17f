// RMSNorm backward to the weight: dw_j += sum over rows of dy[r, j] * x[r, j] * rstd[r], one
// invocation per column, rows summed in order (deterministic). rstd comes from rmsnorm.wgsl.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;

fn item_count() -> u32 { return p.dim; }

fn item(j: u32) {
  var s = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    s += dy[r * p.dim + j] * x[r * p.dim + j] * rstd[r];
  }
  dw[j] += s;
}
