// Causal grouped-query attention for training: as ../attention/serial.wgsl (one invocation per
// (row, head), online softmax, no barriers), but reading q, k and v from the fused q|k|v rows of a
// batch of sequences (attending to rows of its own sequence only), and saving each softmax's
// log-sum-exp, from which the backward rebuilds the probabilities.
// Expects: attention-io.wgsl, ../attention/online-softmax.wgsl, ../items.wgsl.

@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;

fn q_at(i: u32) -> f32 { return qkv[i]; }
fn k_at(i: u32) -> f32 { return qkv[i]; }
fn v_at(i: u32) -> f32 { return qkv[i]; }

fn item_count() -> u32 { return p.rows * p.numHeads; }

fn item(idx: u32) { // idx = r * numHeads + h
  let h = idx % p.numHeads;
  let r = idx / p.numHeads;
  let hd = p.headDim;
  let f = fused();
  let ko = f.qDim + (h / (p.numHeads / p.numKvHeads)) * hd; // this head's k within a row; v is kvDim further
  let qo = r * f.stride + h * hd;
  var acc: array<f32, MAX_HEAD_DIM>;
  let softmax = attend(qo, ko, f.stride, f.kvDim, r - r % p.seqLen, r, &acc);
  for (var d = 0u; d < hd; d++) {
    out[idx * hd + d] = acc[d] / softmax.y;
  }
  lse[idx] = softmax.x + log(softmax.y);
}
