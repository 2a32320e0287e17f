// C (+)= A B with A and B read through strides, so one kernel serves every product of a linear
// layer's backward without transposing anything in memory:
//   dX = dY W      A = dY [rows, out] (aRow = out, aCol = 1), B = W [out, in] (bRow = in, bCol = 1)
//   dW += dY^T X   A[o, r] = dY[r, o] (aRow = 1, aCol = out),  B = X [rows, in] (bRow = in, bCol = 1)
// C is [M, N] row-major. Each invocation computes a 4x4 block straight from storage, with no workgroup
// memory and no barriers (as matmul-blocked.wgsl: software adapters pay per barrier per invocation),
// and walks K in order, so results are deterministic. flags bit 0: accumulate into C (gradient sums).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  aRow: u32,
  aCol: u32,
  bRow: u32,
  bCol: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let colBlocks = (p.N + 3u) / 4u;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= colBlocks * ((p.M + 3u) / 4u)) {
    return;
  }
  let m0 = (idx / colBlocks) * 4u;
  let n0 = (idx % colBlocks) * 4u;
  // Out-of-range rows/columns read the last valid one (in bounds); their results are never written.
  var ao: array<u32, 4>;
  var bo: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    ao[i] = min(m0 + i, p.M - 1u) * p.aRow;
    bo[i] = min(n0 + i, p.N - 1u) * p.bCol;
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < p.K; k++) {
    let ka = k * p.aCol;
    let kb = k * p.bRow;
    let bv = vec4f(b[bo[0] + kb], b[bo[1] + kb], b[bo[2] + kb], b[bo[3] + kb]);
    acc[0] += a[ao[0] + ka] * bv;
    acc[1] += a[ao[1] + ka] * bv;
    acc[2] += a[ao[2] + ka] * bv;
    acc[3] += a[ao[3] + ka] * bv;
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (m < p.M && n < p.N) {
        var v = acc[i][j];
        if ((p.flags & 1u) != 0u) {
          v += c[m * p.N + n];
        }
        c[m * p.N + n] = v;
      }
    }
  }
}
