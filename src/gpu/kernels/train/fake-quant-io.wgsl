// Fake quantization (straight-through training of a quantized student): fw = decode(encode(master)) for
// `count` blocks of BLOCK weights starting at weight `offset` of a parameter group, so the forward
// multiplies by what the student stores while AdamW keeps updating the f32 masters.
// Expects from its companion: fn fake_block(o: u32), writing fw[o .. o + BLOCK) from master[o .. o + BLOCK).
// Entry point: ../items.wgsl (one invocation per block).

override BLOCK: u32;

struct Params {
  count: u32,
  offset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> master: array<f32>;
@group(0) @binding(2) var<storage, read_write> fw: array<f32>;

fn item_count() -> u32 { return p.count; }

/**
 * x, hidden from the optimizer: the encoders round x * id to f32 before adding to it or comparing, and a
 * driver may fuse a product with the next add (fma, one rounding) where nothing marks it precise. OR-ing in
 * a zero the compiler cannot prove (count is never all ones) keeps the product a rounded f32 value.
 */
fn opaque(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) | select(0u, 1u, p.count == 0xffffffffu));
}

fn item(i: u32) {
  fake_block(p.offset + i * BLOCK);
}
