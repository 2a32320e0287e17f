// f32 -> f16 / bf16 rounding done on the bits, as src/model/half.ts does it (round to nearest even,
// subnormals kept): WGSL leaves the rounding of pack2x16float/quantizeToF16 to the implementation, and
// a llama.cpp block stores its scale as f16, so the forward must see exactly the CPU's rounded scale.
// Companion of the fake-quantization pieces; needs nothing.

fn f16_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let exp = i32((b >> 23u) & 0xffu);
  var mant = b & 0x7fffffu;
  if (exp == 255) {
    return sign | 0x7c00u | select(0u, 0x200u, mant != 0u);
  }
  var e = exp - 127 + 15;
  if (e >= 31) {
    return sign | 0x7c00u;
  }
  if (e <= 0) {
    if (e < -10) {
      return sign;
    }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    var m = mant >> shift;
    let rest = mant & ((1u << shift) - 1u);
    if (rest > half || (rest == half && (m & 1u) != 0u)) {
      m += 1u;
    }
    return sign | m;
  }
  var m = mant >> 13u;
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (m & 1u) != 0u)) {
    m += 1u;
    if (m == 0x400u) {
      m = 0u;
      e += 1;
      if (e >= 31) {
        return sign | 0x7c00u;
      }
    }
  }
  return sign | (u32(e) << 10u) | m;
}

fn f16_value(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let exp = (h >> 10u) & 0x1fu;
  let frac = h & 0x3ffu;
  if (exp == 0u) {
    // subnormal f16: frac * 2^-24 is a normal f32, exact
    let v = ldexp(f32(frac), -24);
    return select(v, -v, sign != 0u);
  }
  if (exp == 31u) {
    return bitcast<f32>(sign | 0x7f800000u | (frac << 13u));
  }
  return bitcast<f32>(sign | ((exp + 112u) << 23u) | (frac << 13u));
}

/** x rounded to bfloat16 (torch's round to nearest even of the low 16 bits), as an f32. */
fn bf16_round(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) {
    return bitcast<f32>(((b >> 16u) | 0x40u) << 16u);
  }
  return bitcast<f32>(((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) << 16u);
}
