// y = x W^T (+ bias) (+ y) for a few rows of x (decode: one token), W [outDim, inDim] in a block-quantized
// format, read raw and dequantized in registers: decode is bound by reading W, and the raw blocks are 2-7x
// fewer bytes than f32. The format's decoder (QK, QB, chunk_values, chunk_pos: see dequant/common.wgsl) is
// appended to this source per format. Grid and reduction as in matvec.wgsl: TPR invocations share an
// output and stride over its 8-weight chunks, so a warp reads consecutive bytes of a row; row m of x is
// workgroup z. TPR = 1 (one invocation per output, no reduction rounds) is the CPU-adapter variant.
// flags: bit 0 adds bias[n]; bit 1 accumulates into out (the fused residual add).

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>; // inDim is a multiple of QK, hence of 8
@group(0) @binding(2) var<storage, read> w: array<u32>;
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
    let blocks = p.inDim / QK;
    let per = QK / 8u; // chunks per block
    let wo = n * blocks * QB;
    let xo = m * (p.inDim / 4u);
    for (var u = lane; u < blocks * per; u += TPR) {
      let b = u / per;
      let c = u % per;
      let v = chunk_values(wo + b * QB, c);
      let k = xo + (b * QK + chunk_pos(c)) / 4u;
      s += dot(v.a, x[k.x]) + dot(v.b, x[k.y]);
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
