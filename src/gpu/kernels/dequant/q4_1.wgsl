// llama.cpp Q4_1: { f16 d; f16 m; uint8 qs[16] } (20 bytes, so every field is word-aligned); nibbles as in
// Q4_0, x = d * q + m. The product is exact in f32 (an f16 times 4 bits), so fma rounds like the CPU decoder.
const QK = 32u;
const QB = 20u;

fn chunk_pos(c: u32) -> vec2u {
  return vec2u(4u * c, 16u + 4u * c);
}

fn chunk_values(o: u32, c: u32) -> Chunk {
  let i = o >> 2u;
  let dm = unpack2x16float(w[i]);
  let q = w[i + 1u + c];
  return Chunk(fma(vec4f(nibbles_lo(q)), vec4f(dm.x), vec4f(dm.y)), fma(vec4f(nibbles_hi(q)), vec4f(dm.x), vec4f(dm.y)));
}
