// llama.cpp Q4_1: { f16 d; f16 m; uint8 qs[16] } (20 bytes, so every field is word-aligned); nibbles as in
// Q4_0, x = d * q + m. The product is exact in f32 (an f16 times 4 bits), so fma rounds like the CPU decoder.
// QK, chunk_pos and the nibble order: nibbles.wgsl.
const QB = 20u;

fn chunk_values(o: u32, c: u32) -> Chunk {
  let i = o >> 2u;
  let dm = unpack2x16float(w[i]);
  let q = w[i + 1u + c];
  return Chunk(fma(vec4f(nibbles_lo(q)), vec4f(dm.x), vec4f(dm.y)), fma(vec4f(nibbles_hi(q)), vec4f(dm.x), vec4f(dm.y)));
}
