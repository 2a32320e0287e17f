// Next-token cross-entropy over logits, forward and backward in one pass, one invocation per row
// (no barriers): loss[r] = logsumexp(z_r) - z_r[target_r], and
//   dLogits[r] (+)= weight * (softmax(z_r) - onehot(target_r)).
// weight carries the loss's mean (1 / counted rows) and its share in a mixed loss. Rows whose
// target is IGNORE (0xffffffff) add nothing and have loss 0. flags bit 0: accumulate into dLogits.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  rows: u32,
  vocab: u32,
  weight: f32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

const IGNORE = 0xffffffffu;
fn item_count() -> u32 { return p.rows; }

fn item(r: u32) {
  let o = r * p.vocab;
  let t = targets[r];
  let acc = (p.flags & 1u) != 0u;
  if (t == IGNORE) {
    loss[r] = 0.0;
    if (!acc) {
      for (var i = 0u; i < p.vocab; i++) {
        dLogits[o + i] = 0.0;
      }
    }
    return;
  }
  var m = logits[o];
  for (var i = 1u; i < p.vocab; i++) {
    m = max(m, logits[o + i]);
  }
  var sum = 0.0;
  for (var i = 0u; i < p.vocab; i++) {
    sum += exp(logits[o + i] - m);
  }
  loss[r] = m + log(sum) - logits[o + t];
  for (var i = 0u; i < p.vocab; i++) {
    var g = exp(logits[o + i] - m) / sum;
    if (i == t) {
      g -= 1.0;
    }
    g *= p.weight;
    if (acc) {
      g += dLogits[o + i];
    }
    dLogits[o + i] = g;
  }
}
