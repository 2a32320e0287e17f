// matvec.wgsl's decoder with 16-byte loads, for inDim a multiple of 4 (every real hidden size): decode
// reads each weight once, so wider loads are most of what separates it from the memory bandwidth.
// Expects: io.wgsl, matvec.wgsl (TPR). Provides the operand types: both read as vec4f.

alias XT = vec4f;
alias WT = vec4f;

fn row_dot(m: u32, n: u32, lane: u32) -> f32 {
  let k4 = p.inDim / 4u;
  let xo = m * k4;
  let wo = n * k4;
  var s = 0.0;
  for (var k = lane; k < k4; k += TPR) {
    s += dot(x[xo + k], w[wo + k]);
  }
  return s;
}
