// matvec.wgsl with 16-byte loads, for inDim a multiple of 4 (every real hidden size): decode reads
// each weight once, so wider loads are most of what separates it from the memory bandwidth.
// y = x W^T (+ bias) (+ y); flags: bit 0 adds bias[n]; bit 1 accumulates into out (the residual add).

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
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
  let k4 = p.inDim / 4u;
  var s = 0.0;
  if (n < p.outDim) {
    let xo = m * k4;
    let wo = n * k4;
    for (var k = lane; k < k4; k += TPR) {
      s += dot(x[xo + k], w[wo + k]);
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
