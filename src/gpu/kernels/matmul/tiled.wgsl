// C = A B for batches (prefill) on GPUs, f32 operands read through the io piece's accessors: forward
// y = x W^T (io.wgsl + f32.wgsl) and training's strided products (../backward/matmul-io.wgsl).
// Each 16x16 workgroup computes a 64x64 output tile (tile-fma.wgsl); K is walked in slices of 16:
// 256 invocations stage 64x16 values of each operand, 4 each, 16 consecutive k per row (coalesced
// where the operand is k-contiguous).
// Expects: dim_m/dim_n/dim_k, a_row/a_at, b_col/b_at (see f32.wgsl), tile-fma.wgsl, store-block.wgsl.

const TK = 16u;   // K slice staged per step
const PITCH = 65u; // 64 + 1 keeps the transposing store conflict-free

/** A[m, k], or 0 past the edges (the last tiles are partial). */
fn load_a(m: u32, k: u32) -> f32 {
  if (m < dim_m() && k < dim_k()) {
    return a_at(a_row(m), k);
  }
  return 0.0;
}

/** B[k, n], or 0 past the edges. */
fn load_b(n: u32, k: u32) -> f32 {
  if (n < dim_n() && k < dim_k()) {
    return b_at(b_col(n), k);
  }
  return 0.0;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let t = lid.y * 16u + lid.x;
  var acc: array<vec4f, 4>; // acc[i][j]: row m0 + lid.y + 16i, column n0 + lid.x + 16j

  for (var k0 = 0u; k0 < dim_k(); k0 += TK) {
    for (var l = 0u; l < 4u; l++) {
      let e = t + l * 256u;
      let row = e / TK;
      let k = k0 + e % TK;
      xs[(e % TK) * PITCH + row] = load_a(m0 + row, k);
      ws[(e % TK) * PITCH + row] = load_b(n0 + row, k);
    }
    workgroupBarrier();
    tile_fma(&acc, lid);
    workgroupBarrier();
  }
  store_block(m0 + lid.y, n0 + lid.x, 16u, acc);
}
