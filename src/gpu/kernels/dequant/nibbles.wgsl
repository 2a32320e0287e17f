// What llama.cpp's 4-bit blocks share (q4_0.wgsl, q4_1.wgsl, q5_0.wgsl): 32 weights a block, whose
// 16 quant bytes hold weight j in the low nibble of byte j and weight j + 16 in the high one. Chunk c
// is quant bytes 4c .. 4c + 3: weights 4c .. 4c + 3 (low nibbles) and 16 + 4c .. 16 + 4c + 3 (high).
// Completes a format file, which defines QB and chunk_values; expects nothing beyond common.wgsl.

const QK = 32u;

fn chunk_pos(c: u32) -> vec2u {
  return vec2u(4u * c, 16u + 4u * c);
}

/** Low nibbles of the 4 bytes of u (ggml's first 16 weights of a block). */
fn nibbles_lo(u: u32) -> vec4u {
  return (vec4u(u) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(15u);
}

/** High nibbles of the 4 bytes of u (ggml's last 16 weights of a block). */
fn nibbles_hi(u: u32) -> vec4u {
  return (vec4u(u) >> vec4u(4u, 12u, 20u, 28u)) & vec4u(15u);
}
