// y = x W^T (+ bias) (+ y) for CPU adapters (SwiftShader): each invocation computes a 4x4 block of
// outputs straight from storage, with no workgroup memory and no barriers (which a CPU rasterizer
// pays for per invocation); 16 multiply-adds per 8 loads. Same params and bindings as matmul.wgsl.

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let colBlocks = (p.outDim + 3u) / 4u;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= colBlocks * ((p.rows + 3u) / 4u)) {
    return;
  }
  let m0 = (idx / colBlocks) * 4u;
  let n0 = (idx % colBlocks) * 4u;
  // Clamp out-of-range rows/columns onto the last valid one: reads stay in bounds, writes are skipped.
  var xo: array<u32, 4>;
  var wo: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    xo[i] = min(m0 + i, p.rows - 1u) * p.inDim;
    wo[i] = min(n0 + i, p.outDim - 1u) * p.inDim;
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < p.inDim; k++) {
    let b = vec4f(w[wo[0] + k], w[wo[1] + k], w[wo[2] + k], w[wo[3] + k]);
    acc[0] += x[xo[0] + k] * b;
    acc[1] += x[xo[1] + k] * b;
    acc[2] += x[xo[2] + k] * b;
    acc[3] += x[xo[3] + k] * b;
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (m < p.rows && n < p.outDim) {
        var v = acc[i][j];
        if ((p.flags & 1u) != 0u) {
          v += bias[n];
        }
        if ((p.flags & 2u) != 0u) {
          v += out[m * p.outDim + n];
        }
        out[m * p.outDim + n] = v;
      }
    }
  }
}
