// Global-norm clipping, step 2, one invocation: norm = sqrt(sum of all partials), and the factor
// every gradient is multiplied by before the optimizer, min(1, maxNorm / norm) (1 when maxNorm is 0:
// no clipping). out = [scale, norm]; the norm is read back for the training log.

struct Params {
  count: u32,
  maxNorm: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(1)
fn main() {
  var s = 0.0;
  for (var i = 0u; i < p.count; i++) {
    s += partials[i];
  }
  let norm = sqrt(s);
  var scale = 1.0;
  if (p.maxNorm > 0.0 && norm > p.maxNorm) {
    scale = p.maxNorm / norm;
  }
  out[0] = scale;
  out[1] = norm;
}
