// matvec.wgsl's decoder for block-quantized W, read raw and dequantized in registers: decode is bound
// by reading W, and the raw blocks are 2-7x fewer bytes than f32. The lanes stride over the row's
// 8-weight chunks, so a warp reads consecutive bytes of a row.
// Expects: io.wgsl, matvec.wgsl (TPR), dequant/common.wgsl and a format (QK, QB, chunk_values, chunk_pos).
// Provides XT: x is read as vec4f (inDim is a multiple of QK, hence of 8).

alias XT = vec4f;

fn row_dot(m: u32, n: u32, lane: u32) -> f32 {
  let blocks = p.inDim / QK;
  let per = QK / 8u; // chunks per block
  let wo = n * blocks * QB;
  let xo = m * (p.inDim / 4u);
  var s = 0.0;
  for (var u = lane; u < blocks * per; u += TPR) {
    let b = u / per;
    let c = u % per;
    let v = chunk_values(wo + b * QB, c);
    let k = xo + (b * QK + chunk_pos(c)) / 4u;
    s += dot(v.a, x[k.x]) + dot(v.b, x[k.y]);
  }
  return s;
}
