// llama.cpp Q8_0: { f16 d; int8 qs[32] } (34 bytes), x = d * q. Chunk c is weights 8c .. 8c + 7.
const QK = 32u;
const QB = 34u;

fn chunk_pos(c: u32) -> vec2u {
  return vec2u(8u * c, 8u * c + 4u);
}

/** The 4 bytes of u as signed integers (sign-extended by an arithmetic shift). */
fn i8x4(u: u32) -> vec4f {
  return vec4f(bitcast<vec4i>(vec4u(u) << vec4u(24u, 16u, 8u, 0u)) >> vec4u(24u));
}

fn chunk_values(o: u32, c: u32) -> Chunk {
  let d = w_f16(o);
  let q = o + 2u + 8u * c;
  return Chunk(d * i8x4(w_u32(q)), d * i8x4(w_u32(q + 4u)));
}
