// Causal grouped-query attention for CPU adapters (SwiftShader): one invocation per (row, head), no
// workgroup memory and no barriers, which a CPU rasterizer pays for per invocation. Same math, params
// and bindings as chunked.wgsl: an online softmax over positions [0, startPos + r].
// Expects: io.wgsl, online-softmax.wgsl, ../items.wgsl.

fn q_at(i: u32) -> f32 { return q[i]; }
fn k_at(i: u32) -> f32 { return kCache[i]; }
fn v_at(i: u32) -> f32 { return vCache[i]; }

fn item_count() -> u32 { return p.rows * p.numHeads; }

fn item(idx: u32) { // idx = r * numHeads + h
  let h = idx % p.numHeads;
  let r = idx / p.numHeads;
  let hd = p.headDim;
  let kvDim = p.numKvHeads * hd;
  let kvo = (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = idx * hd;
  var acc: array<f32, MAX_HEAD_DIM>;
  let softmax = attend(qo, kvo, kvDim, 0u, 0u, p.startPos + r, &acc);
  for (var d = 0u; d < hd; d++) {
    out[qo + d] = acc[d] / softmax.y;
  }
}
