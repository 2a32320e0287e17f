// matvec.wgsl's decoder for f32 weights read one at a time (inDim of any size).
// Expects: matvec.wgsl (TPR), the operand reads of f32.wgsl.

fn row_dot(m: u32, n: u32, lane: u32) -> f32 {
  let xo = a_row(m);
  let wo = b_col(n);
  var s = 0.0;
  for (var k = lane; k < dim_k(); k += TPR) {
    s += a_at(xo, k) * b_at(wo, k);
  }
  return s;
}
