// a / b rounded to nearest even for positive normal a, b with a normal quotient, by long division of the
// 24-bit mantissas. WGSL allows f32 division 2.5 ulp of error, and ggml's scale d = amax / 127 and its
// inverse 1 / d are correctly rounded on the CPU; one ulp off in id moves weights across rounding
// boundaries, so the quantizers divide here instead. Needs nothing.

fn div_rn(a: f32, b: f32) -> f32 {
  let ab = bitcast<u32>(a);
  let bb = bitcast<u32>(b);
  var e = i32((ab >> 23u) & 0xffu) - i32((bb >> 23u) & 0xffu);
  var ma = (ab & 0x7fffffu) | 0x800000u;
  let mb = (bb & 0x7fffffu) | 0x800000u;
  if (ma < mb) {
    ma = ma << 1u;
    e -= 1;
  }
  // 25 quotient bits (1 integer, 23 fraction, 1 guard); the remainder is the sticky bit
  var q = 0u;
  var r = ma;
  for (var i = 0u; i < 25u; i++) {
    q = q << 1u;
    if (r >= mb) {
      r -= mb;
      q |= 1u;
    }
    r = r << 1u;
  }
  let guard = q & 1u;
  q = q >> 1u;
  if (guard == 1u && (r != 0u || (q & 1u) == 1u)) {
    q += 1u;
  }
  if (q == 0x1000000u) {
    q = q >> 1u;
    e += 1;
  }
  return bitcast<f32>((u32(e + 127) << 23u) | (q & 0x7fffffu));
}

/** 1 / d correctly rounded, keeping its sign; 0 for d = 0 (as ggml's `id = d ? 1/d : 0`). */
fn inverse_rn(d: f32) -> f32 {
  if (d == 0.0) {
    return 0.0;
  }
  let i = div_rn(1.0, abs(d));
  return select(i, -i, d < 0.0);
}
