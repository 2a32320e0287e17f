// Which two elements of a head RoPE rotates together (rope-kv.wgsl and backward/rope.wgsl): style 0
// pairs (2i, 2i + 1) (interleaved, GGUF llama); style 1 pairs (i, i + headDim / 2) (half, HF rotate_half).
// The angles come from a cos/sin table built on the CPU (rope-table.ts), [position][headDim / 2].

/** Offsets within the head of pair i (of `half` = headDim / 2 pairs). */
fn rope_pair(i: u32, half: u32, style: u32) -> vec2u {
  if (style == 0u) {
    return vec2u(2u * i, 2u * i + 1u);
  }
  return vec2u(i, i + half);
}
