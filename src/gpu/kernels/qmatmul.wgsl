// y = x W^T (+ bias) (+ y) for batches (prefill), W [outDim, inDim] block-quantized and read raw; the
// format's decoder (dequant/*.wgsl) is appended per format. The tiling is matmul.wgsl's: a 16x16 workgroup
// computes a 64x64 output tile, each invocation a 4x4 block strided by 16; K is walked in slices of 32
// staged k-major in workgroup memory. Each slice, every invocation stages 8 consecutive x values of one
// tile row and dequantizes one 8-weight chunk of one W row (64 rows x 4 chunks = 256 invocations), so
// each weight is decoded once per tile, not once per multiply. 2 x 8 KiB of workgroup memory: within
// WebGPU's default 16 KiB limit (hence no padding column).
// flags: bit 0 adds bias[n]; bit 1 accumulates into out (the residual add).

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

const TILE = 64u; // output rows and columns per workgroup
const TK = 32u;   // K slice staged per step: 4 chunks of 8 (one ggml block)

var<workgroup> xs: array<f32, 2048>; // [TK][TILE]
var<workgroup> ws: array<f32, 2048>; // [TK][TILE]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let t = lid.y * 16u + lid.x;
  let row = t / 4u; // the tile row this invocation stages, of x and of W
  let q = t % 4u;   // which 8 of the slice's 32 k
  let units = p.inDim / 8u; // chunks per row
  let per = QK / 8u;
  let wRow = (n0 + row) * (p.inDim / QK) * QB;
  var acc: array<vec4f, 4>; // acc[i][j]: row m0 + lid.y + 16i, column n0 + lid.x + 16j

  for (var k0 = 0u; k0 < p.inDim; k0 += TK) {
    let u = k0 / 8u + q;
    // x: k0 + 8q .. + 7 of row m0 + row (chunks of QK = 16 blocks may run past inDim in the last slice)
    var xa = vec4f(0.0);
    var xb = vec4f(0.0);
    if (m0 + row < p.rows && u < units) {
      let xi = ((m0 + row) * p.inDim) / 4u + 2u * u;
      xa = x[xi];
      xb = x[xi + 1u];
    }
    // W: chunk u of row n0 + row; its positions may interleave (ggml's nibble order) but stay in the slice
    let b = u / per;
    let c = u % per;
    var v = Chunk(vec4f(0.0), vec4f(0.0));
    if (n0 + row < p.outDim && u < units) {
      v = chunk_values(wRow + b * QB, c);
    }
    let kw = vec2u(b * QK) + chunk_pos(c) - vec2u(k0);
    for (var i = 0u; i < 4u; i++) {
      xs[(8u * q + i) * TILE + row] = xa[i];
      xs[(8u * q + 4u + i) * TILE + row] = xb[i];
      ws[(kw.x + i) * TILE + row] = v.a[i];
      ws[(kw.y + i) * TILE + row] = v.b[i];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let bw = vec4f(ws[kk * TILE + lid.x], ws[kk * TILE + lid.x + 16u], ws[kk * TILE + lid.x + 32u], ws[kk * TILE + lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += xs[kk * TILE + lid.y + 16u * i] * bw;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
      if (m < p.rows && n < p.outDim) {
        var o = acc[i][j];
        if ((p.flags & 1u) != 0u) {
          o += bias[n];
        }
        if ((p.flags & 2u) != 0u) {
          o += out[m * p.outDim + n];
        }
        out[m * p.outDim + n] = o;
      }
    }
  }
}
