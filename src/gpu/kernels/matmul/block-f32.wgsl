// blocked.wgsl's product for f32 operands read through the io piece's accessors (f32.wgsl, or
// ../backward/matmul-io.wgsl's strides): 16 multiply-adds per 8 loads, K walked in order (so training's
// sums are deterministic). Expects: dim_m/dim_n/dim_k, a_row/a_at, b_col/b_at.

fn block_product(m0: u32, n0: u32) -> array<vec4f, 4> {
  // Clamp out-of-range rows/columns onto the last valid one: reads stay in bounds, writes are skipped.
  var ao: array<u32, 4>;
  var bo: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    ao[i] = a_row(min(m0 + i, dim_m() - 1u));
    bo[i] = b_col(min(n0 + i, dim_n() - 1u));
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < dim_k(); k++) {
    let bv = vec4f(b_at(bo[0], k), b_at(bo[1], k), b_at(bo[2], k), b_at(bo[3], k));
    acc[0] += a_at(ao[0], k) * bv;
    acc[1] += a_at(ao[1], k) * bv;
    acc[2] += a_at(ao[2], k) * bv;
    acc[3] += a_at(ao[3], k) * bv;
  }
  return acc;
}
