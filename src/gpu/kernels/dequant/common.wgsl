// What every dequantizing matmul shares: byte access to the raw weight blocks and the Chunk they decode to.
// The blocks sit in `w`, the matrix's bytes bound as array<u32> (WGSL has no byte loads). llama.cpp's
// 18-, 22- and 34-byte blocks are only 2-byte aligned, so a field may straddle two words; the upload pads
// the buffer by one spare word (weights.ts, rawBufferBytes) so reading w[i + 1] never leaves it.
//
// A format (q8_0.wgsl, ...; the 4-bit ones with nibbles.wgsl) defines, for the kernel it is appended to:
//   QK: weights per block (a multiple of 8); QB: bytes per block;
//   chunk_values(o, c): the 8 weights of chunk c (0 <= c < QK / 8) of the block at byte o, dequantized;
//   chunk_pos(c): where in the block those two runs of 4 weights sit (multiples of 4).
// Blocks run along a row and rows hold whole blocks, so row n starts at byte n * (inDim / QK) * QB.
// Expects: the `w` binding of ../matmul/io.wgsl, whose element type this piece sets.

alias WT = u32;

/** 8 dequantized weights: `a` holds block positions chunk_pos(c).x + 0..3, `b` chunk_pos(c).y + 0..3. */
struct Chunk {
  a: vec4f,
  b: vec4f,
}

/** The 4 bytes starting at any byte offset o, little-endian. */
fn w_u32(o: u32) -> u32 {
  let i = o >> 2u;
  let sh = (o & 3u) * 8u;
  // Both words are read and the aligned case selected, rather than branching: blocks alternate
  // alignment, and a branch would diverge within a warp. (A shift by 32 is a shift by 0 in WGSL.)
  return select((w[i] >> sh) | (w[i + 1u] << (32u - sh)), w[i], sh == 0u);
}

/** The f16 at an even byte offset, widened to f32. */
fn w_f16(o: u32) -> f32 {
  return unpack2x16float(w[o >> 2u] >> ((o & 2u) * 8u)).x;
}
