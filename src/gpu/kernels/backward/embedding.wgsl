// Embedding backward, a deterministic scatter-add: dTable[t] += sum of dx rows whose token is t.
// The CPU groups rows by token (it has the token ids) into `index` = [ids (U) | starts (U + 1) |
// rows (N)]: unique token u owns rows[starts[u] .. starts[u + 1]). One invocation per (u, column)
// sums its rows in order, so no two invocations touch the same output and no atomics are needed.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  uniques: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> index: array<u32>;
@group(0) @binding(2) var<storage, read> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> dTable: array<f32>;

fn item_count() -> u32 { return p.uniques * p.dim; }

fn item(idx: u32) {
  let u = idx / p.dim;
  let c = idx % p.dim;
  let rows = 2u * p.uniques + 1u; // where the row list starts
  var s = 0.0;
  for (var k = index[p.uniques + u]; k < index[p.uniques + u + 1u]; k++) {
    s += dx[index[rows + k] * p.dim + c];
  }
  let o = index[u] * p.dim + c;
  dTable[o] = dTable[o] + s;
}
