// RoPE in place over the leading `heads` heads of each row (q then k heads of a fused q|k|v row, whose
// length is rowStride). Row r sits at position r % seqLen (a batch of sequences, each from 0).
// A rotation's backward is the rotation by the opposite angle, so `inverse` = 1 turns this kernel
// into RoPE's backward (gradient wrt the unrotated q and k). Pairing (style) and the cos/sin table
// are those of rope-kv.wgsl. One invocation per rotated pair.
// Expects: ../rope-pair.wgsl, ../items.wgsl.

struct Params {
  rows: u32,
  heads: u32,
  headDim: u32,
  rowStride: u32,
  seqLen: u32,
  style: u32,
  inverse: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<vec2f>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

fn item_count() -> u32 { return p.rows * p.heads * (p.headDim / 2u); }

fn item(idx: u32) {
  let half = p.headDim / 2u;
  let i = idx % half;
  let h = (idx / half) % p.heads;
  let r = idx / (half * p.heads);
  let ab = rope_pair(i, half, p.style);
  let a = ab.x;
  let b = ab.y;
  let cs = table[(r % p.seqLen) * half + i];
  let sn = select(cs.y, -cs.y, p.inverse != 0u);
  let o = r * p.rowStride + h * p.headDim;
  let x0 = x[o + a];
  let x1 = x[o + b];
  x[o + a] = x0 * cs.x - x1 * sn;
  x[o + b] = x0 * sn + x1 * cs.x;
}
