// RoPE in place over the leading `heads` heads of each row (q then k heads of a fused q|k|v row, whose
// length is rowStride). Row r sits at position r % seqLen (a batch of sequences, each from 0).
// A rotation's backward is the rotation by the opposite angle, so `inverse` = 1 turns this kernel
// into RoPE's backward (gradient wrt the unrotated q and k). Pairing (style) and the cos/sin table
// are those of rope-kv.wgsl. One invocation per rotated pair.

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

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let half = p.headDim / 2u;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.rows * p.heads * half) {
    return;
  }
  let i = idx % half;
  let h = (idx / half) % p.heads;
  let r = idx / (half * p.heads);
  var a = i;
  var b = i + half;
  if (p.style == 0u) {
    a = 2u * i;
    b = a + 1u;
  }
  let cs = table[(r % p.seqLen) * half + i];
  let sn = select(cs.y, -cs.y, p.inverse != 0u);
  let o = r * p.rowStride + h * p.headDim;
  let x0 = x[o + a];
  let x1 = x[o + b];
  x[o + a] = x0 * cs.x - x1 * sn;
  x[o + b] = x0 * sn + x1 * cs.x;
}
