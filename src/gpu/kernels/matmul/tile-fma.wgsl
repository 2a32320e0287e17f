// The inner product of the tiled matmuls (tiled.wgsl, tiled-quant.wgsl): a 16x16 workgroup computes a
// TILE x TILE output tile, each invocation a 4x4 block of it strided by 16, so that neighbouring
// invocations touch neighbouring columns. Each K slice is staged in workgroup memory k-major
// ([TK][PITCH]: row kk holds the slice's k = kk of every tile row), so the reads below are
// conflict-free broadcasts and strides.
// Expects from the body: const TK (K slice per step) and const PITCH (row pitch of the staged tiles),
// which it fills between barriers: xs[kk * PITCH + r] = A[m0 + r, k0 + kk], ws[kk * PITCH + c] = B[k0 + kk, n0 + c].

const TILE = 64u; // output rows and columns per workgroup

var<workgroup> xs: array<f32, TK * PITCH>;
var<workgroup> ws: array<f32, TK * PITCH>;

/** acc[i][j] += the staged slice's share of output (lid.y + 16i, lid.x + 16j) of the tile. */
fn tile_fma(acc: ptr<function, array<vec4f, 4>>, lid: vec3u) {
  for (var kk = 0u; kk < TK; kk++) {
    let bw = vec4f(ws[kk * PITCH + lid.x], ws[kk * PITCH + lid.x + 16u], ws[kk * PITCH + lid.x + 32u], ws[kk * PITCH + lid.x + 48u]);
    for (var i = 0u; i < 4u; i++) {
      (*acc)[i] += xs[kk * PITCH + lid.y + 16u * i] * bw;
    }
  }
}
