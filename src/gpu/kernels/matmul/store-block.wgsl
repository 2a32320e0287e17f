// Epilogue of the matmuls whose invocations own 4x4 output blocks (tiled: strided by 16; blocked:
// contiguous): each in-range output goes through store_out, which applies the kernel's flags.
// Expects: dim_m(), dim_n() and store_out(m, n, v) from the io piece (matmul/io.wgsl, backward/matmul-io.wgsl).

/** Stores acc[i][j] as output (m0 + step * i, n0 + step * j), skipping those past the edges. */
fn store_block(m0: u32, n0: u32, step: u32, acc: array<vec4f, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + step * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + step * j;
      if (m < dim_m() && n < dim_n()) {
        store_out(m, n, acc[i][j]);
      }
    }
  }
}
