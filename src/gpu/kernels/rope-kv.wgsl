// RoPE and KV-cache append in one pass over the fused q|k|v projection output.
// qkv rows are [q (numHeads * headDim) | k (numKvHeads * headDim) | v (numKvHeads * headDim)].
// Query heads are rotated into q [rows, numHeads * headDim] (contiguous, as attention reads them);
// key heads are rotated into kCache and value heads copied into vCache at row startPos + r.
// cos/sin come from a table built on the CPU in double precision ([position][headDim / 2] of
// (cos, sin)), so accuracy never depends on the GPU's sin/cos at large angles, and RoPE scaling
// variants only change the table. One invocation per rotated pair of one head of one row.
// Expects: rope-pair.wgsl (the pairing, by style), items.wgsl.

struct Params {
  rows: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  startPos: u32,
  style: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(5) var<storage, read_write> vCache: array<f32>;

fn item_count() -> u32 { return p.rows * (p.numHeads + p.numKvHeads) * (p.headDim / 2u); }

fn item(idx: u32) {
  let half = p.headDim / 2u;
  let heads = p.numHeads + p.numKvHeads;
  let i = idx % half;
  let h = (idx / half) % heads; // query heads first, then key heads
  let r = idx / (half * heads);
  let ab = rope_pair(i, half, p.style); // offsets of the pair within its head
  let a = ab.x;
  let b = ab.y;
  let qDim = p.numHeads * p.headDim;
  let kvDim = p.numKvHeads * p.headDim;
  let pos = p.startPos + r;
  let cs = table[pos * half + i];
  let src = r * (qDim + 2u * kvDim) + h * p.headDim; // this head in the qkv row
  let x0 = qkv[src + a];
  let x1 = qkv[src + b];
  let y0 = x0 * cs.x - x1 * cs.y;
  let y1 = x0 * cs.y + x1 * cs.x;
  if (h < p.numHeads) {
    let dst = r * qDim + h * p.headDim;
    q[dst + a] = y0;
    q[dst + b] = y1;
  } else {
    let dst = pos * kvDim + (h - p.numHeads) * p.headDim;
    kCache[dst + a] = y0;
    kCache[dst + b] = y1;
    let v = src + kvDim; // the value head sits kvDim after its key head
    vCache[dst + a] = qkv[v + a];
    vCache[dst + b] = qkv[v + b];
  }
}
