// Our int{2,3,4,8}_g{16,32,64,128} family: { f16 scale; f16 offset; levels as an LSB-first bitstream }
// (4 + GROUP * BITS / 8 bytes), x = scale * q + offset. One source for all 16 members: BITS and GROUP are
// pipeline constants, so each member compiles to straight-line code. Chunk c is weights 8c .. 8c + 7,
// which are the BITS bytes from 4 + c * BITS (int3's 3-byte chunks land on any byte, hence w_u32).
// The product is exact in f32 (an f16 times at most 8 bits), so fma rounds like the CPU decoder.
override BITS: u32 = 4u;
override GROUP: u32 = 32u;
override QK: u32 = GROUP;
override QB: u32 = 4u + GROUP * BITS / 8u;

fn chunk_pos(c: u32) -> vec2u {
  return vec2u(8u * c, 8u * c + 4u);
}

fn chunk_values(o: u32, c: u32) -> Chunk {
  let so = unpack2x16float(w_u32(o));
  let q = o + 4u + BITS * c;
  let mask = vec4u((1u << BITS) - 1u);
  let sh = vec4u(0u, 1u, 2u, 3u) * BITS;
  let lo = w_u32(q);
  // 8 levels of up to 4 bits fit one word; int8's take two (the & 31 keeps int8's unused shift legal)
  var hi = vec4u(lo) >> ((sh + vec4u(4u * BITS)) & vec4u(31u));
  if (BITS == 8u) {
    hi = vec4u(w_u32(q + 4u)) >> sh;
  }
  return Chunk(fma(vec4f((vec4u(lo) >> sh) & mask), vec4f(so.x), vec4f(so.y)), fma(vec4f(hi & mask), vec4f(so.x), vec4f(so.y)));
}
