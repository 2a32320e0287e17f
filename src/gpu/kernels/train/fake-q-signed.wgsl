// llama.cpp Q4_0 / Q5_0 round trip (quantize_row_q4_0_ref / q5_0_ref, then dequantize): d = (the block's
// largest-magnitude value, with its sign) / -HALF, id = 1 / d, q = min(2 HALF - 1, trunc(x * id + HALF + 0.5)),
// stored d rounded to f16, x' = d16 * (q - HALF). HALF is 8 (Q4_0) or 16 (Q5_0); dividing by it is exact.
// Companion of fake-quant-io.wgsl (BLOCK = 32), half-round.wgsl and div-rn.wgsl.

override HALF: u32;

fn fake_block(o: u32) {
  var amax = 0.0;
  var mx = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let x = master[o + j];
    if (abs(x) > amax) {
      amax = abs(x);
      mx = x;
    }
  }
  let d = mx * (-1.0 / f32(HALF));
  let id = inverse_rn(d);
  let d16 = f16_value(f16_bits(d));
  let top = 2u * HALF - 1u;
  let bias = f32(HALF) + 0.5;
  for (var j = 0u; j < 32u; j++) {
    let t = opaque(master[o + j] * id);
    let q = min(top, u32(max(t + bias, 0.0)));
    fw[o + j] = d16 * f32(i32(q) - i32(HALF));
  }
}
