// C = A B for CPU adapters (SwiftShader): each invocation computes a 4x4 block of outputs straight from
// storage, with no workgroup memory and no barriers (which a CPU rasterizer pays for per invocation).
// One body for every operand format: forward f32 and training's strided products (block-f32.wgsl) and
// the quantized formats (block-quant.wgsl) differ only in block_product.
// Expects: dim_m(), dim_n() (io piece), block_product(m0, n0) -> array<vec4f, 4> (acc[i][j]: output
// (m0 + i, n0 + j)), store-block.wgsl.

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let colBlocks = (dim_n() + 3u) / 4u;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= colBlocks * ((dim_m() + 3u) / 4u)) {
    return;
  }
  let m0 = (idx / colBlocks) * 4u;
  let n0 = (idx % colBlocks) * 4u;
  store_block(m0, n0, 1u, block_product(m0, n0));
}
