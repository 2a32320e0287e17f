// y = x W^T (+ bias) (+ y) for a few rows of x (decode: one token). Decode is bound by reading W once,
// so TPR invocations share each output: they stride over K together (consecutive invocations read
// consecutive weights) and reduce in workgroup memory. TPR = 1 (one invocation per output, no reduction
// rounds) is the CPU-adapter variant. Row m of x is workgroup z; outputs are split over x and y for
// vocabularies above 65535 * RPW.
//
// Expects: io.wgsl; reduce.wgsl; a decoder providing row_dot(m, n, lane), the partial dot product of
// x row m and W row n over the K positions this lane takes (lane, lane + TPR, ...), in K order:
// dot-f32.wgsl, dot-vec4.wgsl, or dot-quant.wgsl with a format (dequant/*.wgsl).

override TPR: u32 = 64; // invocations per output, a power of two
override RPW: u32 = 4;  // outputs per workgroup

var<workgroup> partial: array<f32, TPR * RPW>;

@compute @workgroup_size(TPR * RPW)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) t: u32,
) {
  let lane = t % TPR;
  let n = (wid.x + wid.y * nwg.x) * RPW + t / TPR;
  let m = wid.z;
  var s = 0.0;
  if (n < p.outDim) {
    s = row_dot(m, n, lane);
  }
  reduce_sum(s, t, lane, TPR);
  if (lane == 0u && n < p.outDim) {
    store_out(m, n, partial[t]);
  }
}
