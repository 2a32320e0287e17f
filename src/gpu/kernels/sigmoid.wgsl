// The logistic sigmoid of SwiGLU (swiglu.wgsl and its backward), written so exp never overflows:
// exp(-|g|) is at most 1, and the branch picks the form that divides by a number in [1, 2].

fn sigmoid(g: f32) -> f32 {
  let e = exp(-abs(g));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), g >= 0.0);
}
