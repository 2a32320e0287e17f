// y = x W^T (+ bias) (+ y), W block-quantized and read raw, for CPU adapters (SwiftShader): as in
// matmul-blocked.wgsl, each invocation computes a 4x4 block of outputs straight from storage with no
// workgroup memory or barriers. Per 8-weight chunk it decodes 4 W rows once and uses each for 4 x rows
// (32 vec4 dots per 4 decodes). The format's decoder (dequant/*.wgsl) is appended per format.

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>; // inDim is a multiple of QK, hence of 8
@group(0) @binding(2) var<storage, read> w: array<u32>;
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
  let blocks = p.inDim / QK;
  let per = QK / 8u;
  // Clamp out-of-range rows/columns onto the last valid one: reads stay in bounds, writes are skipped.
  var xo: array<u32, 4>;
  var wo: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    xo[i] = min(m0 + i, p.rows - 1u) * (p.inDim / 4u);
    wo[i] = min(n0 + i, p.outDim - 1u) * blocks * QB;
  }
  var acc: array<vec4f, 4>; // acc[i][j]: row m0 + i, column n0 + j
  for (var b = 0u; b < blocks; b++) {
    for (var c = 0u; c < per; c++) {
      let k = (b * QK + chunk_pos(c)) / 4u;
      let w0 = chunk_values(wo[0] + b * QB, c);
      let w1 = chunk_values(wo[1] + b * QB, c);
      let w2 = chunk_values(wo[2] + b * QB, c);
      let w3 = chunk_values(wo[3] + b * QB, c);
      for (var i = 0u; i < 4u; i++) {
        let xa = x[xo[i] + k.x];
        let xb = x[xo[i] + k.y];
        acc[i] += vec4f(
          dot(w0.a, xa) + dot(w0.b, xb), dot(w1.a, xa) + dot(w1.b, xb),
          dot(w2.a, xa) + dot(w2.b, xb), dot(w3.a, xa) + dot(w3.b, xb),
        );
      }
    }
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
