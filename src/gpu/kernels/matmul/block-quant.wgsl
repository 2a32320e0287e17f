// blocked.wgsl's product for block-quantized W, read raw (a format's decoder, dequant/*.wgsl, comes
// alongside): per 8-weight chunk it decodes 4 W rows once and uses each for 4 x rows (32 vec4 dots per
// 4 decodes). Expects: io.wgsl, dequant/common.wgsl and a format.
// Provides XT: x is read as vec4f (inDim is a multiple of QK, hence of 8).

alias XT = vec4f;

fn block_product(m0: u32, n0: u32) -> array<vec4f, 4> {
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
  return acc;
}
