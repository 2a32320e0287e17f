// llama.cpp Q8_0 round trip (quantize_row_q8_0_ref, then dequantize): d = amax / 127 rounded to f32, id =
// 1 / d, q = roundf(x * id) (halves away from zero), stored d rounded to f16, x' = d16 * q. Every step is
// exact in f32 or correctly rounded (div_rn), so fw equals the CPU fakeQuantize bit for bit.
// Companion of fake-quant-io.wgsl (BLOCK = 32), half-round.wgsl and div-rn.wgsl.

fn fake_block(o: u32) {
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) {
    amax = max(amax, abs(master[o + j]));
  }
  if (amax == 0.0) {
    for (var j = 0u; j < 32u; j++) {
      fw[o + j] = 0.0;
    }
    return;
  }
  let d = div_rn(amax, 127.0);
  let id = div_rn(1.0, d);
  let d16 = f16_value(f16_bits(d));
  for (var j = 0u; j < 32u; j++) {
    let v = opaque(master[o + j] * id);
    // roundf without the inexact |v| + 0.5
    let a = abs(v);
    let f = floor(a);
    var q = i32(f) + select(0, 1, a - f >= 0.5);
    if (v < 0.0) {
      q = -q;
    }
    fw[o + j] = d16 * f32(q);
  }
}
