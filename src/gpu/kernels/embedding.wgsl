// Embedding gather: out[r, :] = table[tokens[r], :]. One invocation per output element.
// Token ids are range-checked on the CPU before upload, so the index is always in bounds.
// Entry point: items.wgsl, which calls item() for each of item_count() items.

struct Params {
  rows: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn item_count() -> u32 { return p.rows * p.dim; }

fn item(i: u32) {
  let r = i / p.dim;
  out[i] = table[tokens[r] * p.dim + i % p.dim];
}
