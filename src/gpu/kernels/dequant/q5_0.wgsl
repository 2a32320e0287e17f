// llama.cpp Q5_0: { f16 d; uint8 qh[4]; uint8 qs[16] } (22 bytes); the low 4 bits of each weight as in Q4_0,
// the 5th bit of weight j is bit j of qh; x = d * (q - 16).
// QK, chunk_pos and the nibble order: nibbles.wgsl.
const QB = 22u;

fn chunk_values(o: u32, c: u32) -> Chunk {
  let d = w_f16(o);
  let qh = w_u32(o + 2u);
  let q = w_u32(o + 6u + 4u * c);
  let bit = vec4u(0u, 1u, 2u, 3u);
  let ha = ((vec4u(qh >> (4u * c)) >> bit) & vec4u(1u)) << vec4u(4u);
  let hb = ((vec4u(qh >> (16u + 4u * c)) >> bit) & vec4u(1u)) << vec4u(4u);
  return Chunk(d * (vec4f(nibbles_lo(q) | ha) - 16.0), d * (vec4f(nibbles_hi(q) | hb) - 16.0));
}
