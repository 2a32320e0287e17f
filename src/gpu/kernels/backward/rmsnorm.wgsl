// RMSNorm backward to the input, one invocation per row (no barriers; see matmul.wgsl).
// y = x * s * w with s = 1 / sqrt(mean(x^2) + eps), so
//   dx_i = s * w_i * dy_i - (s^3 / dim) * x_i * sum_j(w_j * dy_j * x_j).
// The row's s is written to rstd for the weight gradient (rmsnorm-weight.wgsl).
// flags bit 0: accumulate into dx (the residual stream's gradient already sits there).
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd: array<f32>;

fn item_count() -> u32 { return p.rows; }

fn item(r: u32) {
  let o = r * p.dim;
  var ss = 0.0;
  var dot = 0.0;
  for (var i = 0u; i < p.dim; i++) {
    let v = x[o + i];
    ss += v * v;
    dot += weight[i] * dy[o + i] * v;
  }
  let s = 1.0 / sqrt(ss / f32(p.dim) + p.eps);
  rstd[r] = s;
  let k = s * s * s * dot / f32(p.dim);
  let acc = (p.flags & 1u) != 0u;
  for (var i = 0u; i < p.dim; i++) {
    var v = s * weight[i] * dy[o + i] - k * x[o + i];
    if (acc) {
      v += dx[o + i];
    }
    dx[o + i] = v;
  }
}
