// Global-norm clipping, step 1: sums of squares of a gradient in chunks of CHUNK values, one
// invocation per chunk (no barriers or atomics), into partials[first + chunk]. Every gradient of a
// model writes its own range of partials; clip-scale.wgsl adds them all up in a fixed order.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  count: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

override CHUNK: u32 = 1024;

fn item_count() -> u32 { return (p.count + CHUNK - 1u) / CHUNK; }

fn item(c: u32) {
  let start = c * CHUNK;
  var s = 0.0;
  for (var i = start; i < min(start + CHUNK, p.count); i++) {
    s += grad[i] * grad[i];
  }
  partials[p.first + c] = s;
}
