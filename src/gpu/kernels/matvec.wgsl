// y = x W^T (+ bias) (+ y) for a few rows of x (decode: one token), f32 weights [outDim, inDim].
// Decode is bound by reading W once, so TPR invocations share each output: they stride over K
// together (consecutive invocations read consecutive weights) and reduce in workgroup memory.
// Row m of x is workgroup z; outputs are split over x and y for vocabularies above 65535 * RPW.
// flags: bit 0 adds bias[n]; bit 1 accumulates into out (the fused residual add).

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

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
    let xo = m * p.inDim;
    let wo = n * p.inDim;
    for (var k = lane; k < p.inDim; k += TPR) {
      s += x[xo + k] * w[wo + k];
    }
  }
  partial[t] = s;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partial[t] += partial[t + stride];
    }
    workgroupBarrier();
  }
  if (lane == 0u && n < p.outDim) {
    var v = partial[t];
    if ((p.flags & 1u) != 0u) {
      v += bias[n];
    }
    if ((p.flags & 2u) != 0u) {
      v += out[m * p.outDim + n];
    }
    out[m * p.outDim + n] = v;
  }
}
