// Keeps a pruned model sparse while it trains: zeroes the gradient wherever the weight was pruned
// (bit i of mask clear), before clipping and AdamW. With a zero gradient from the first step, AdamW's
// moments stay zero and a zero weight stays exactly zero (weight decay of 0 is 0), so no re-masking
// of the weights is needed. One invocation per gradient value.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mask: array<u32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

fn item_count() -> u32 { return p.count; }

fn item(i: u32) {
  if ((mask[i / 32u] & (1u << (i % 32u))) == 0u) {
    grad[i] = 0.0;
  }
}
