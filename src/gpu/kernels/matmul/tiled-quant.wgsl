// y = x W^T for batches (prefill) on GPUs, W block-quantized and read raw (a format's decoder,
// dequant/*.wgsl, comes alongside). The tiling is tiled.wgsl's (tile-fma.wgsl) with K walked in slices
// of 32. Each slice, every invocation stages 8 consecutive x values of one tile row and dequantizes one
// 8-weight chunk of one W row (64 rows x 4 chunks = 256 invocations), so each weight is decoded once per
// tile, not once per multiply. 2 x 8 KiB of workgroup memory: within WebGPU's default 16 KiB limit
// (hence no padding column).
// Expects: io.wgsl, tile-fma.wgsl, store-block.wgsl, dequant/common.wgsl and a format.
// Provides XT: x is read as vec4f (inDim is a multiple of QK, hence of 8).

alias XT = vec4f;

const TK = 32u;    // K slice staged per step: 4 chunks of 8 (one ggml block)
const PITCH = 64u; // TILE: no padding column

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
      xs[(8u * q + i) * PITCH + row] = xa[i];
      xs[(8u * q + 4u + i) * PITCH + row] = xb[i];
      ws[(kw.x + i) * PITCH + row] = v.a[i];
      ws[(kw.y + i) * PITCH + row] = v.b[i];
    }
    workgroupBarrier();
    tile_fma(&acc, lid);
    workgroupBarrier();
  }
  store_block(m0 + lid.y, n0 + lid.x, 16u, acc);
}
