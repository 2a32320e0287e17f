// y = x W^T (+ bias) (+ y) with W [outDim, inDim] packed N:M (model/dtypes/sparse-nm.ts): only the N kept
// weights of every M inputs are read and multiplied, each gathering its input through a log2(M)-bit index.
// `w` is the packed matrix: the values (f32, or f16 pairs when F16 = 1), then each row's index words.
// TPR invocations share an output and stride over the row's index words (a word covers GPW groups), so a
// warp reads consecutive index words and consecutive runs of values. Workgroup z takes RB rows of x, so each
// weight is read once per RB rows: RB = 1 for decode, 8 for batches (prefill). TPR = 1 (one invocation per
// output, no reduction rounds) is the CPU-adapter variant.
// Params, bindings and flags: matmul/io.wgsl (expected alongside), with x read as f32 and w as raw words.

alias XT = f32;
alias WT = u32;

override N: u32 = 2u;
override M: u32 = 4u;
override IB: u32 = 2u;  // log2(M)
override F16: u32 = 0u; // values stored as f16 pairs
override TPR: u32 = 64u; // invocations per output, a power of two
override RPW: u32 = 4u;  // outputs per workgroup
override RB: u32 = 1u;   // rows of x per workgroup, at most MAX_RB

const MAX_RB = 8u;

var<workgroup> partial: array<f32, TPR * RPW * RB>;

fn value(i: u32) -> f32 {
  if (F16 == 1u) {
    let pair = unpack2x16float(w[i >> 1u]);
    return select(pair.x, pair.y, (i & 1u) == 1u);
  }
  return bitcast<f32>(w[i]);
}

@compute @workgroup_size(TPR * RPW)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) t: u32,
) {
  let lane = t % TPR;
  let n = (wid.x + wid.y * nwg.x) * RPW + t / TPR;
  let m0 = wid.z * RB;
  let rb = min(RB, p.rows - m0);
  var s: array<f32, MAX_RB>;
  if (n < p.outDim) {
    let groups = p.inDim / M;
    let gpw = 32u / (N * IB);
    let wordsPerRow = (groups + gpw - 1u) / gpw;
    let valueWords = p.outDim * groups * N / (1u + F16);
    let io = valueWords + n * wordsPerRow;
    let vo = n * groups * N;
    for (var u = lane; u < wordsPerRow; u += TPR) {
      let bits = w[io + u];
      let g0 = u * gpw;
      let g1 = min(g0 + gpw, groups);
      for (var g = g0; g < g1; g++) {
        let field = bits >> ((g - g0) * N * IB);
        for (var k = 0u; k < N; k++) {
          let v = value(vo + g * N + k);
          let xi = m0 * p.inDim + g * M + ((field >> (k * IB)) & (M - 1u));
          // RB is a pipeline constant: the compiler unrolls this and keeps s in registers
          for (var r = 0u; r < RB; r++) {
            if (r < rb) {
              s[r] += v * x[xi + r * p.inDim];
            }
          }
        }
      }
    }
  }
  let W = TPR * RPW;
  for (var r = 0u; r < RB; r++) {
    partial[r * W + t] = s[r];
  }
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      for (var r = 0u; r < RB; r++) {
        partial[r * W + t] += partial[r * W + t + stride];
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u && n < p.outDim) {
    for (var r = 0u; r < rb; r++) {
      store_out(m0 + r, n, partial[r * W + t]);
    }
  }
}
