// llama.cpp Q4_0: { f16 d; uint8 qs[16] } (18 bytes); byte j holds weight j (low nibble) and j + 16 (high),
// x = d * (q - 8). QK, chunk_pos and the nibble order: nibbles.wgsl.
const QB = 18u;

fn chunk_values(o: u32, c: u32) -> Chunk {
  let d = w_f16(o);
  let q = w_u32(o + 2u + 4u * c);
  return Chunk(d * (vec4f(nibbles_lo(q)) - 8.0), d * (vec4f(nibbles_hi(q)) - 8.0));
}
