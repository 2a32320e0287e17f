// Causal grouped-query attention over the KV cache; one workgroup per (head, row).
// Row r (position startPos + r) attends cache positions [0, startPos + r]; head h reads kv head
// h / (numHeads / numKvHeads). Keys are visited in chunks of WG with an online softmax (running
// max and sum, rescaled per chunk), so any context length works with fixed workgroup memory.
// Per chunk: invocation t scores key c0 + t; a tree reduction finds the chunk max; invocations
// owning output dims (d = t, t + WG, ...) then fold the chunk's weights times V into their sums.
// Expects: io.wgsl.

override WG: u32 = 64;           // keys per chunk; a power of two
const DIMS_PER_INVOCATION = 4u;  // MAX_HEAD_DIM / WG for the smallest WG we use (64)
const NEG_BIG = -1.0e30;         // "minus infinity" that stays finite (WGSL does not promise infinities)

var<workgroup> qs: array<f32, MAX_HEAD_DIM>;
var<workgroup> weights: array<f32, WG>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let h = wid.x;
  let r = wid.y;
  let hd = p.headDim;
  let kvDim = p.numKvHeads * hd;
  let kvo = (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = (r * p.numHeads + h) * hd;
  for (var d = t; d < hd; d += WG) {
    qs[d] = q[qo + d] * p.scale;
  }
  workgroupBarrier();

  let last = p.startPos + r; // last visible position
  var runMax = NEG_BIG;
  var runSum = 0.0;
  var acc: array<f32, DIMS_PER_INVOCATION>;
  for (var c0 = 0u; c0 <= last; c0 += WG) {
    let j = c0 + t;
    var s = NEG_BIG;
    if (j <= last) {
      let ko = j * kvDim + kvo;
      s = 0.0;
      for (var d = 0u; d < hd; d++) {
        s += qs[d] * kCache[ko + d];
      }
    }
    red[t] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      if (t < stride) {
        red[t] = max(red[t], red[t + stride]);
      }
      workgroupBarrier();
    }
    let newMax = max(runMax, red[0]);
    weights[t] = exp(s - newMax); // masked keys underflow to exactly 0
    workgroupBarrier();

    let correction = exp(runMax - newMax);
    let n = min(WG, last + 1u - c0);
    runSum *= correction;
    for (var k = 0u; k < DIMS_PER_INVOCATION; k++) {
      acc[k] *= correction;
    }
    for (var jj = 0u; jj < n; jj++) {
      let wgt = weights[jj];
      runSum += wgt;
      let vo = (c0 + jj) * kvDim + kvo;
      for (var k = 0u; k < DIMS_PER_INVOCATION; k++) {
        let d = t + k * WG;
        if (d < hd) {
          acc[k] += wgt * vCache[vo + d];
        }
      }
    }
    runMax = newMax;
    workgroupBarrier(); // weights and red are rewritten by the next chunk
  }

  for (var k = 0u; k < DIMS_PER_INVOCATION; k++) {
    let d = t + k * WG;
    if (d < hd) {
      out[qo + d] = acc[k] / runSum;
    }
  }
}
