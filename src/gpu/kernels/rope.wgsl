// Rotary position embedding in place on x [rows, numHeads * headDim]; row r sits at startPos + r.
// cos/sin come from a table built on the CPU in double precision ([position][headDim / 2] of
// (cos, sin)), so accuracy never depends on the GPU's sin/cos at large angles, and RoPE scaling
// variants only change the table. style 0 pairs (2i, 2i+1) (interleaved, GGUF llama);
// style 1 pairs (i, i + headDim/2) (half, HF rotate_half). One invocation per pair.

struct Params {
  rows: u32,
  numHeads: u32,
  headDim: u32,
  startPos: u32,
  style: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<vec2f>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let half = p.headDim / 2u;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.rows * p.numHeads * half) {
    return;
  }
  let i = idx % half;
  let head = idx / half; // row * numHeads + h
  let r = head / p.numHeads;
  let base = head * p.headDim;
  var a = base + i;
  var b = a + half;
  if (p.style == 0u) {
    a = base + 2u * i;
    b = a + 1u;
  }
  let cs = table[(p.startPos + r) * half + i];
  let x0 = x[a];
  let x1 = x[b];
  x[a] = x0 * cs.x - x1 * cs.y;
  x[b] = x0 * cs.y + x1 * cs.x;
}
