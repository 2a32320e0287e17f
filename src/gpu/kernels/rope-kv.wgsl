// RoPE and KV-cache append in one pass over the fused q|k|v projection output.
// qkv rows are [q (numHeads * headDim) | k (numKvHeads * headDim) | v (numKvHeads * headDim)].
// Query heads are rotated into q [rows, numHeads * headDim] (contiguous, as attention reads them);
// key heads are rotated into kCache and value heads copied into vCache at row startPos + r.
// cos/sin come from a table built on the CPU in double precision ([position][headDim / 2] of
// (cos, sin)), so accuracy never depends on the GPU's sin/cos at large angles, and RoPE scaling
// variants only change the table. style 0 pairs (2i, 2i+1) (interleaved, GGUF llama); style 1 pairs
// (i, i + headDim/2) (half, HF rotate_half). One invocation per rotated pair of one head of one row.

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

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let half = p.headDim / 2u;
  let heads = p.numHeads + p.numKvHeads;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.rows * heads * half) {
    return;
  }
  let i = idx % half;
  let h = (idx / half) % heads; // query heads first, then key heads
  let r = idx / (half * heads);
  // offsets of the pair within its head
  var a = i;
  var b = i + half;
  if (p.style == 0u) {
    a = 2u * i;
    b = a + 1u;
  }
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
