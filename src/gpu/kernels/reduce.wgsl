// Tree sum in workgroup memory, for kernels where several invocations share one result.
// Expects from its companion: var<workgroup> partial: array<f32, ...> with a slot per invocation.
// Must be called in uniform control flow (it has barriers), with width a uniform power of two.

/**
 * Sums v over each group of `width` consecutive invocations (lane = t % width); afterwards the
 * group's first invocation finds the sum in partial[t].
 */
fn reduce_sum(v: f32, t: u32, lane: u32, width: u32) {
  partial[t] = v;
  workgroupBarrier();
  for (var stride = width / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partial[t] += partial[t + stride];
    }
    workgroupBarrier();
  }
}
