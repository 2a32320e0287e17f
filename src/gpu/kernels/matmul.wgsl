// y = x W^T (+ bias) (+ y), f32 weights stored [outDim, inDim] (PyTorch layout), for batches (prefill).
// Each 16x16 workgroup computes a 64x64 output tile; each invocation a 4x4 block of it, strided by 16
// so that neighbouring invocations touch neighbouring columns. K is walked in slices of 16 staged in
// workgroup memory, stored k-major so the inner loop reads are conflict-free broadcasts/strides.
// flags: bit 0 adds bias[n]; bit 1 accumulates into out (the residual add, fused: no extra pass).

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

const TILE = 64u;  // output rows and columns per workgroup
const TK = 16u;    // K slice staged per step
const PAD = 65u;   // row pitch of the staged tiles: 64 + 1 keeps the transposing store conflict-free

var<workgroup> xs: array<f32, 1040>; // [TK][PAD]
var<workgroup> ws: array<f32, 1040>; // [TK][PAD]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let t = lid.y * 16u + lid.x;
  var acc: array<vec4f, 4>; // acc[i][j]: row m0 + lid.y + 16i, column n0 + lid.x + 16j

  for (var k0 = 0u; k0 < p.inDim; k0 += TK) {
    // 256 invocations stage 64x16 values of each operand: 4 each, 16 consecutive k per row (coalesced).
    for (var l = 0u; l < 4u; l++) {
      let e = t + l * 256u;
      let row = e / TK;
      let k = k0 + e % TK;
      var xv = 0.0;
      if (m0 + row < p.rows && k < p.inDim) {
        xv = x[(m0 + row) * p.inDim + k];
      }
      xs[(e % TK) * PAD + row] = xv;
      var wv = 0.0;
      if (n0 + row < p.outDim && k < p.inDim) {
        wv = w[(n0 + row) * p.inDim + k];
      }
      ws[(e % TK) * PAD + row] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let b = vec4f(ws[kk * PAD + lid.x], ws[kk * PAD + lid.x + 16u], ws[kk * PAD + lid.x + 32u], ws[kk * PAD + lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += xs[kk * PAD + lid.y + 16u * i] * b;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
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
