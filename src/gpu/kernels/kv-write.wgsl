// Append this batch's keys and values to the layer's KV cache: rows [startPos, startPos + rows)
// of kCache / vCache [maxPositions, kvDim]. One invocation per element (keys and values together).

struct Params {
  rows: u32,
  kvDim: u32,
  startPos: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(4) var<storage, read_write> vCache: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.kvDim) {
    return;
  }
  let dst = p.startPos * p.kvDim + i;
  kCache[dst] = k[i];
  vCache[dst] = v[i];
}
