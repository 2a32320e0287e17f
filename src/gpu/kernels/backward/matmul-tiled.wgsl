// C (+)= A B through strides, as matmul.wgsl (same params and bindings), tiled for GPUs: each 16x16
// workgroup computes a 64x64 tile of C, each invocation a 4x4 block strided by 16, with K walked in
// slices of 16 staged in workgroup memory (the scheme of ../matmul.wgsl, whose B is always W^T).
// Staging reads 16 consecutive k per row: coalesced where the operand is k-contiguous (aCol = 1 or
// bRow = 1), strided otherwise (dW's dY^T), which the tile reuse (64 outputs per staged value) pays for.

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

const TILE = 64u;
const TK = 16u;
const PAD = 65u; // row pitch of the staged tiles: 64 + 1 keeps the transposing store conflict-free

var<workgroup> as_: array<f32, 1040>; // [TK][PAD]
var<workgroup> bs: array<f32, 1040>;  // [TK][PAD]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let t = lid.y * 16u + lid.x;
  var acc: array<vec4f, 4>; // acc[i][j]: row m0 + lid.y + 16i, column n0 + lid.x + 16j

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var l = 0u; l < 4u; l++) {
      let e = t + l * 256u;
      let row = e / TK;
      let k = k0 + e % TK;
      var av = 0.0;
      if (m0 + row < p.M && k < p.K) {
        av = a[(m0 + row) * p.aRow + k * p.aCol];
      }
      as_[(e % TK) * PAD + row] = av;
      var bv = 0.0;
      if (n0 + row < p.N && k < p.K) {
        bv = b[k * p.bRow + (n0 + row) * p.bCol];
      }
      bs[(e % TK) * PAD + row] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let bb = vec4f(bs[kk * PAD + lid.x], bs[kk * PAD + lid.x + 16u], bs[kk * PAD + lid.x + 32u], bs[kk * PAD + lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += as_[kk * PAD + lid.y + 16u * i] * bb;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
      if (m < p.M && n < p.N) {
        var v = acc[i][j];
        if ((p.flags & 1u) != 0u) {
          v += c[m * p.N + n];
        }
        c[m * p.N + n] = v;
      }
    }
  }
}
